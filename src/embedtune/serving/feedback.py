"""``POST /feedback``: what users were shown and what they clicked, one JSON line per search, for learning.

The log (``--feedback-log FILE``) is append-only JSON lines, UTF-8, one object per request, in arrival order::

    {"format": 1,                                  # bumped if a field changes meaning
     "received_at": "2025-01-31T12:00:00.123456Z",  # server clock, UTC
     "timestamp": "2025-01-31T11:59:58Z",           # when the results were shown (client's clock; else = received_at)
     "query": "what causes scurvy",
     "index": "v2",                                 # the index version that produced the results
     "arm": "tuned",                                # experiment arm (null outside experiments)
     "results": [{"id": "doc1#0", "position": 1}, {"id": "doc7#3", "position": 2}],   # shown, position 1 = top
     "clicks": [{"id": "doc7#3", "position": 2, "dwell_s": 41.5}]}                    # dwell_s may be null

Checks: ``results`` ids and positions are unique; every click names a shown id (its position, when given,
must be the one shown); ``index``, when given, must be a version of the store (default: the version served
at receipt). Timestamps are ISO 8601; one without a zone is taken as UTC. Lines are written whole under a
lock and flushed, so concurrent requests never interleave and a crash loses at most the line being written.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from embedtune.errors import EmbedtuneError

FORMAT = 1


class ShownResult(BaseModel):
    """One result as shown: its chunk id and 1-based position."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    position: int = Field(ge=1)


class Click(BaseModel):
    """A click on a shown result, with the seconds spent on it when known."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    position: int | None = Field(None, ge=1)
    dwell_s: float | None = Field(None, ge=0)


class FeedbackRequest(BaseModel):
    """The body of ``POST /feedback``."""

    model_config = ConfigDict(extra="forbid")

    query: str
    results: list[ShownResult] = Field(max_length=1000)
    clicks: list[Click] = Field(default_factory=list, max_length=1000)
    timestamp: datetime | None = None
    index: str | None = None
    arm: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the query is empty")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackRequest:
        shown: dict[str, int] = {}
        for r in self.results:
            if r.id in shown:
                raise ValueError(f"result {r.id!r} is listed twice")
            shown[r.id] = r.position
        if len(set(shown.values())) != len(shown):
            raise ValueError("two results share a position")
        for c in self.clicks:
            if c.id not in shown:
                raise ValueError(f"click on {c.id!r}, which is not among the results shown")
            if c.position is not None and c.position != shown[c.id]:
                raise ValueError(f"click on {c.id!r} at position {c.position}, but it was shown at {shown[c.id]}")
        return self


class FeedbackRecord(BaseModel):
    """One line of the feedback log (see the module docstring)."""

    format: Literal[1] = FORMAT
    received_at: datetime
    timestamp: datetime
    query: str
    index: str
    arm: str | None
    results: list[ShownResult]
    clicks: list[Click]

    @classmethod
    def of(cls, request: FeedbackRequest, index: str) -> FeedbackRecord:
        """The record of ``request``, received now, about version ``index``."""
        now = datetime.now(UTC)
        shown_at = request.timestamp or now
        if shown_at.tzinfo is None:
            shown_at = shown_at.replace(tzinfo=UTC)
        return cls(
            received_at=now, timestamp=shown_at, query=request.query, index=index, arm=request.arm,
            results=request.results, clicks=request.clicks,
        )


class FeedbackResponse(BaseModel):
    """Acknowledgement: the record was appended."""

    object: Literal["feedback"] = "feedback"
    recorded: bool = True
    index: str
    received_at: datetime


class FeedbackLog:
    """Appends records to a JSON-lines file, one whole line at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch(exist_ok=True)
        except OSError as e:
            raise EmbedtuneError(f"{self.path}: cannot write the feedback log ({e.strerror or e})") from None
        self._lock = threading.Lock()

    def append(self, record: FeedbackRecord) -> None:
        """Write ``record`` as one line and flush it."""
        line = json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
