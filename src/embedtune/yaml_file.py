"""Reading a YAML settings file with a one-line error that names the file (and line) on any problem.

Settings are checked before any work starts: a key the settings do not have (``train.epochz``) is an error
naming the nearest valid key, never silently ignored, and every problem of the file is reported in the one
message, so a config is fixed in one edit rather than one rerun per mistake. Unknown keys are found by
walking the pydantic model classes themselves, so no settings class needs ``extra="forbid"`` for it.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from embedtune.errors import EmbedtuneError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]


def read_yaml(path: str | Path) -> Any:
    """The parsed document ({} for an empty file)."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise EmbedtuneError(f"{path}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise EmbedtuneError(f"{path}{where}: not valid YAML ({getattr(e, 'problem', e)})") from None


def _keys(model: type[BaseModel]) -> dict[str, Any]:
    """Every key ``model`` accepts (field names and string aliases) -> the field's type."""
    keys: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        for key in (name, field.alias, field.validation_alias):
            if isinstance(key, str):
                keys[key] = field.annotation
    return keys


def _unknown_in_model(model: type[BaseModel], data: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if not isinstance(data, Mapping) or model.model_config.get("extra") == "allow":
        return
    keys = _keys(model)
    for key, value in data.items():
        if key in keys:
            yield from unknown_keys(keys[key], value, (*loc, key))
            continue
        near = difflib.get_close_matches(str(key), list(keys), n=1)
        yield (*loc, key), "unknown key" + (f" (did you mean {near[0]!r}?)" if near else "")


def unknown_keys(annotation: Any, data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """``(location, message)`` for each key in ``data`` that the type ``annotation`` has no field for.

    Follows nested models through ``X | None``, lists, tuples and dict values; a union of several models is
    not followed (which one a value is meant for is the validator's call).
    """
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _unknown_in_model(annotation, data, loc)
    elif origin is Annotated:
        yield from unknown_keys(get_args(annotation)[0], data, loc)
    elif origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            yield from unknown_keys(members[0], data, loc)
    elif isinstance(origin, type) and issubclass(origin, Mapping) and isinstance(data, Mapping):
        args = get_args(annotation)
        for key, value in data.items():
            yield from unknown_keys(args[1] if len(args) == 2 else Any, value, (*loc, key))
    elif isinstance(origin, type) and issubclass(origin, Sequence | set | frozenset) and isinstance(data, list):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        for i, value in enumerate(data):
            item = args[i] if origin is tuple and len(args) > 1 and i < len(args) else (args[0] if args else Any)
            yield from unknown_keys(item, value, (*loc, i))


def _line(loc: Loc, message: str) -> str:
    return f"{'.'.join(map(str, loc))}: {message}" if loc else message


def validate_settings(model: type[M], data: Any, path: str | Path) -> M:
    """``model`` from ``data``; every problem (unknown keys included) in one line naming file and fields."""
    unknown = list(unknown_keys(model, data))
    problems = [_line(loc, message) for loc, message in unknown]
    try:
        settings = model.model_validate(data)
    except ValidationError as e:
        reported = {loc for loc, _ in unknown}  # pydantic's "extra inputs" for these, without a suggestion
        problems += [
            _line(tuple(err["loc"]), err["msg"].removeprefix("Value error, "))
            for err in e.errors()
            if not (err["type"] == "extra_forbidden" and tuple(err["loc"]) in reported)
        ]
    if not problems:
        return settings
    if len(problems) == 1:
        raise EmbedtuneError(f"{path}: {problems[0]}")
    raise EmbedtuneError(f"{path}: {len(problems)} problems: " + "; ".join(problems))
