"""Import users' own search logs (JSON lines) into the feedback log format.

``--map query=q,results=shown,clicks=clicked,timestamp=ts,user=uid`` names, for each of our fields, the field
of the user's rows that holds it (dotted paths reach into objects: ``results=resp.docs``). Unmapped fields
are looked up under our own name. Shapes accepted:

* ``results``: a list of ids (position = order, 1 = top) or of objects with ``id`` and ``position`` (or
  ``rank``); ``clicks``: a list of ids or of objects with ``id`` and optional ``position``, ``dwell_s`` (or
  ``dwell``) and ``action``; ``timestamp``: ISO 8601 or Unix seconds.
* ``index``, ``arm``, ``user``, ``session``, ``search_id``: strings (numbers are converted).

A bad row is one line naming ``file:line`` and the problem; by default the first one stops the import,
``skip_bad`` collects them instead (the good rows are still written).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from embedtune.errors import EmbedtuneError, InputError
from embedtune.feedback.log import FeedbackRecord, validation_message, write_log

FIELDS = ("query", "results", "clicks", "timestamp", "index", "arm", "user", "session", "search_id", "action")


@dataclass
class ImportReport:
    """What an import read, wrote and rejected."""

    read: int = 0
    written: int = 0
    bad: list[str] = field(default_factory=list)  # "file:line: reason"


def parse_mapping(spec: str | None) -> dict[str, str]:
    """``"query=q,results=shown"`` -> ``{"query": "q", "results": "shown"}``; unknown targets are an error."""
    mapping: dict[str, str] = {}
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        ours, sep, theirs = item.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not ours or not theirs:
            raise EmbedtuneError(f"mapping {item.strip()!r}: write OUR_FIELD=THEIR_FIELD, e.g. query=q")
        if ours not in FIELDS:
            raise EmbedtuneError(f"mapping {ours}=...: unknown field {ours!r} (fields: {', '.join(FIELDS)})")
        mapping[ours] = theirs
    return mapping


def _get(row: dict, path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _results(value: Any) -> list[dict]:
    if not isinstance(value, list):
        raise ValueError("results: expected a list of ids or of {id, position} objects")
    out = []
    for i, item in enumerate(value, 1):
        if isinstance(item, (str, int)):
            out.append({"id": str(item), "position": i})
        elif isinstance(item, dict) and "id" in item:
            out.append({"id": str(item["id"]), "position": item.get("position", item.get("rank", i))})
        else:
            raise ValueError(f"results[{i - 1}]: expected an id or an object with an id")
    return out


def _clicks(value: Any, action: Any) -> list[dict]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, list):
        raise ValueError("clicks: expected a list of ids or of {id, dwell_s} objects")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, (str, int)):
            out.append({"id": str(item), "action": action})
        elif isinstance(item, dict) and "id" in item:
            out.append({"id": str(item["id"]), "position": item.get("position"),
                        "dwell_s": item.get("dwell_s", item.get("dwell")), "action": item.get("action", action)})
        else:
            raise ValueError(f"clicks[{i}]: expected an id or an object with an id")
    return out


def _timestamp(value: Any) -> Any:
    if value is None:
        raise ValueError("timestamp: missing (map it in the mapping: timestamp=FIELD)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return value


def convert_row(row: dict, mapping: dict[str, str]) -> FeedbackRecord:
    """One user row as a :class:`FeedbackRecord`; ValueError says what is wrong."""
    def get(name: str) -> Any:
        return _get(row, mapping.get(name, name))

    query = get("query")
    if not isinstance(query, str):
        raise ValueError("query: missing or not a string (map it in the mapping: query=FIELD)")
    data = {"query": query, "timestamp": _timestamp(get("timestamp")), "results": _results(get("results")),
            "clicks": _clicks(get("clicks"), get("action"))}
    for name in ("index", "arm", "user", "session", "search_id"):
        value = get(name)
        if value is not None:
            data[name] = str(value)
    try:
        return FeedbackRecord.model_validate(data)
    except ValidationError as e:
        raise ValueError(validation_message(e)) from None


def import_log(source: str | Path, mapping: dict[str, str], out: str | Path, *, skip_bad: bool = False,
               ) -> ImportReport:
    """Convert ``source`` (JSON lines) into a feedback log at ``out`` (see the module docstring)."""
    source = Path(source)
    if not source.is_file():
        raise EmbedtuneError(f"{source}: no such file")
    report = ImportReport()
    records: list[FeedbackRecord] = []
    with open(source, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            report.read += 1
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("expected a JSON object")
                records.append(convert_row(row, mapping))
            except json.JSONDecodeError as e:
                error = InputError(source, f"malformed JSON ({e.msg})", line=lineno)
                if not skip_bad:
                    raise error from None
                report.bad.append(str(error))
            except ValueError as e:
                error = InputError(source, str(e), line=lineno)
                if not skip_bad:
                    raise error from None
                report.bad.append(str(error))
    report.written = write_log(out, records)
    return report
