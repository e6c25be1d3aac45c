"""The feedback log: what users were shown for a query, what they clicked, and under which model/arm.

One JSON object per line, UTF-8, append-only (``embedtune serve --feedback-log FILE`` writes it; ``embedtune
feedback import`` converts users' own logs into it)::

    {"format": 1,                                  # bumped only if a field changes meaning
     "received_at": "2025-01-31T12:00:00.123456Z",  # server clock, UTC (absent in imported logs)
     "timestamp": "2025-01-31T11:59:58Z",           # when the results were shown (ISO 8601; no zone = UTC)
     "query": "what causes scurvy",
     "index": "v2",                                 # model/index version that produced the results
     "arm": "v2",                                   # A/B arm (split mode: a version name); null outside tests
     "results": [{"id": "doc1#0", "position": 1},   # shown, position 1 = top; "arm": team in interleaving
                 {"id": "doc7#3", "position": 2}],
     "clicks": [{"id": "doc7#3", "position": 2, "dwell_s": 41.5, "action": "copied"}],
     # optional, written only when known:
     "user": "u-17", "session": "s-9",              # who (A/B assignment is sticky on user, else session)
     "search_id": "3f2a...",                        # the /search answer these results came from
     "swap": [3, 4],                                # exploration swapped the results at these positions
     "experiment": {"mode": "split", "arms": ["v1", "v2"]}}   # or "interleave"

Version 1 grew the optional fields (``user``, ``session``, ``search_id``, ``swap``, ``experiment``, a result's
``arm``, a click's ``action``) without a format bump: older lines lack them and still read. Checks on every
line: result ids and positions are unique; a click names a shown id (at its shown position when given); a
``swap`` is two adjacent shown positions. :func:`read_log` reports the first bad line as ``file:line: reason``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from embedtune.errors import EmbedtuneError, InputError
from embedtune.workspace import read_jsonl_lines

FORMAT = 1
# Extension fields left out of a line when unknown, so lines stay short and older readers see what they knew.
_OPTIONAL_TOP = ("user", "session", "search_id", "swap", "experiment")


class ShownResult(BaseModel):
    """One result as shown: its chunk id, 1-based position and (interleaving) the arm that contributed it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    position: int = Field(ge=1)
    arm: str | None = Field(None, min_length=1, max_length=200)


class Click(BaseModel):
    """A click on a shown result: seconds spent on it and the downstream action (copied, bought...) when known."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    position: int | None = Field(None, ge=1)
    dwell_s: float | None = Field(None, ge=0)
    action: str | None = Field(None, min_length=1, max_length=200)


class Experiment(BaseModel):
    """The A/B test a record belongs to: ``split`` (one arm per user) or ``interleave`` (both in one list)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["split", "interleave"]
    arms: tuple[str, str]


def check_consistent(results: list[ShownResult], clicks: list[Click], swap: tuple[int, int] | None) -> None:
    """Raise ValueError when ids/positions repeat, a click is not on a shown result, or a swap is not adjacent."""
    shown: dict[str, int] = {}
    for r in results:
        if r.id in shown:
            raise ValueError(f"result {r.id!r} is listed twice")
        shown[r.id] = r.position
    if len(set(shown.values())) != len(shown):
        raise ValueError("two results share a position")
    for c in clicks:
        if c.id not in shown:
            raise ValueError(f"click on {c.id!r}, which is not among the results shown")
        if c.position is not None and c.position != shown[c.id]:
            raise ValueError(f"click on {c.id!r} at position {c.position}, but it was shown at {shown[c.id]}")
    if swap is not None:
        a, b = swap
        if b != a + 1 or a < 1:
            raise ValueError(f"swap {list(swap)} is not two adjacent positions")
        if a not in shown.values() or b not in shown.values():
            raise ValueError(f"swap {list(swap)} names a position that was not shown")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("the query is empty")
    return value


Query = Annotated[str, AfterValidator(_non_empty)]
"""A query text that is not blank (the log and the server's request share it)."""


class FeedbackRecord(BaseModel):
    """One line of the feedback log (see the module docstring)."""

    model_config = ConfigDict(extra="ignore")

    format: Literal[1] = FORMAT
    received_at: datetime | None = None
    timestamp: datetime
    query: Query
    index: str | None = None
    arm: str | None = None
    results: list[ShownResult]
    clicks: list[Click] = Field(default_factory=list)
    user: str | None = None
    session: str | None = None
    search_id: str | None = None
    swap: tuple[int, int] | None = None
    experiment: Experiment | None = None

    @field_validator("timestamp", "received_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackRecord:
        check_consistent(self.results, self.clicks, self.swap)
        return self

    @property
    def unit(self) -> str | None:
        """The id A/B assignment sticks to: the user, else the session."""
        return self.user or self.session

    def position_of(self) -> dict[str, int]:
        """Shown id -> position."""
        return {r.id: r.position for r in self.results}

    def to_json(self) -> dict:
        """The record as written: unknown extension fields are left out (see :data:`_OPTIONAL_TOP`)."""
        data = self.model_dump(mode="json")
        for name in _OPTIONAL_TOP:
            if data.get(name) is None:
                data.pop(name, None)
        for r in data["results"]:
            if r.get("arm") is None:
                r.pop("arm", None)
        for c in data["clicks"]:
            if c.get("action") is None:
                c.pop("action", None)
        return data

    def to_line(self) -> str:
        """One JSON line, newline included."""
        return json.dumps(self.to_json(), ensure_ascii=False) + "\n"


def validation_message(error: ValidationError) -> str:
    """Pydantic's first error as ``field.path: message``."""
    err = error.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "this field is required"
    return f"{loc}: {msg}" if loc else msg


def iter_log(path: str | Path) -> Iterator[tuple[int, FeedbackRecord]]:
    """``(line number, record)`` of a feedback log; the first bad line raises InputError naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise EmbedtuneError(f"{path}: no such feedback log")
    for lineno, data in read_jsonl_lines(path):
        try:
            yield lineno, FeedbackRecord.model_validate(data)
        except ValidationError as e:
            raise InputError(path, validation_message(e), line=lineno) from None


def read_log(path: str | Path) -> list[FeedbackRecord]:
    """Every record of a feedback log, in file order (see :func:`iter_log` for errors)."""
    return [record for _, record in iter_log(path)]


def write_log(path: str | Path, records: list[FeedbackRecord]) -> int:
    """Write ``records`` as a new log, atomically; returns how many."""
    from embedtune.workspace import atomic_write

    with atomic_write(path) as f:
        for record in records:
            f.write(record.to_line())
    return len(records)


def now() -> datetime:
    return datetime.now(UTC)
