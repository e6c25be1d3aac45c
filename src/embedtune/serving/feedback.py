"""``POST /feedback``: what users were shown and what they clicked, one JSON line per search, for learning.

The log format (``--feedback-log FILE``) is documented in :mod:`embedtune.feedback.log` and ``docs/feedback.md``;
this module holds the request body and the writer. A request may carry the ``search_id`` of the ``/search``
answer it is about: the server then fills in what it knows better than the client (the version, A/B arm,
interleaving teams, exploration swap, user/session) from its memory of recent searches
(:mod:`embedtune.serving.impressions`).

Checks: ``results`` ids and positions are unique; every click names a shown id (its position, when given,
must be the one shown); ``index``, when given, must be a version of the store (default: the version served
at receipt). Every field is bounded (ids, names, positions, dwell times), so a client cannot grow the log by a
megabyte per line. Timestamps are ISO 8601; one without a zone is taken as UTC. Lines are written whole under a
lock and flushed, so concurrent requests never interleave and a crash loses at most the line being written.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from embedtune.errors import EmbedtuneError
from embedtune.feedback.log import (
    FORMAT,
    Click,
    Experiment,
    FeedbackRecord,
    Query,
    ShownResult,
    check_consistent,
)

MAX_ID_CHARS = 512  # chunk ids are 16 characters; a document id used as a result id is still far below this
MAX_NAME_CHARS = 200  # version, arm, user, session and search ids
MAX_POSITION = 10_000
MAX_DWELL_S = 7 * 86_400.0

__all__ = ["FORMAT", "Click", "FeedbackLog", "FeedbackRecord", "FeedbackRequest", "FeedbackResponse", "ShownResult"]


class FeedbackRequest(BaseModel):
    """The body of ``POST /feedback``."""

    model_config = ConfigDict(extra="forbid")

    query: Query
    results: list[ShownResult] = Field(max_length=1000)
    clicks: list[Click] = Field(default_factory=list, max_length=1000)
    timestamp: datetime | None = None
    index: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    arm: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    user: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    session: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    search_id: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    swap: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackRequest:
        _check_bounds(self)
        check_consistent(self.results, self.clicks, self.swap)
        return self


def _check_bounds(request: FeedbackRequest) -> None:
    """ValueError naming the first field of ``request`` past its bound (the shared log types leave these open)."""
    fields: list[tuple[str, str | None, int]] = []
    for i, r in enumerate(request.results):
        fields += [(f"results[{i}].id", r.id, MAX_ID_CHARS), (f"results[{i}].arm", r.arm, MAX_NAME_CHARS)]
    fields += [(f"clicks[{i}].id", c.id, MAX_ID_CHARS) for i, c in enumerate(request.clicks)]
    for where, value, limit in fields:
        if value is not None and len(value) > limit:
            raise ValueError(f"{where} has {len(value):,} characters; the limit is {limit:,}")
    positions = [(f"results[{i}].position", r.position) for i, r in enumerate(request.results)]
    positions += [(f"clicks[{i}].position", c.position) for i, c in enumerate(request.clicks)]
    positions += [("swap", p) for p in request.swap or ()]
    for where, position in positions:
        if position is not None and position > MAX_POSITION:
            raise ValueError(f"{where} = {position} is above the limit of {MAX_POSITION:,}")
    for i, c in enumerate(request.clicks):
        if c.dwell_s is not None and not (math.isfinite(c.dwell_s) and c.dwell_s <= MAX_DWELL_S):
            raise ValueError(f"clicks[{i}].dwell_s = {c.dwell_s} is not a time up to {MAX_DWELL_S:g} seconds")


def record_of(
    request: FeedbackRequest, index: str, *, arm: str | None = None, swap: tuple[int, int] | None = None,
    experiment: Experiment | None = None, teams: dict[str, str] | None = None,
    user: str | None = None, session: str | None = None,
) -> FeedbackRecord:
    """The record of ``request``, received now, about version ``index``; keyword values override the client's."""
    now = datetime.now(UTC)
    shown_at = request.timestamp or now
    if shown_at.tzinfo is None:
        shown_at = shown_at.replace(tzinfo=UTC)
    results = request.results
    if teams:
        results = [r.model_copy(update={"arm": teams.get(r.id, r.arm)}) for r in results]
    return FeedbackRecord(
        received_at=now, timestamp=shown_at, query=request.query, index=index, arm=arm or request.arm,
        results=results, clicks=request.clicks, user=request.user or user, session=request.session or session,
        search_id=request.search_id, swap=swap or request.swap, experiment=experiment,
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
        line = record.to_line()
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
