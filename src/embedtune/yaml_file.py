"""Reading a YAML settings file with a one-line error that names the file (and line) on any problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from embedtune.errors import EmbedtuneError

M = TypeVar("M", bound=BaseModel)


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


def validate_settings(model: type[M], data: Any, path: str | Path) -> M:
    """``model`` from ``data``; the first validation problem becomes one line naming file and field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise EmbedtuneError(f"{path}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
