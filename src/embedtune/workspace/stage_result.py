"""What every stage returns: one shape for ingest, generate, split, baseline, mine, teach, train, gate, evaluate.

A stage is ``stage(workspace, config, *, force=False) -> StageResult``. The result says whether the stage found
its outputs current and did nothing (``reused``), which files it owns (``outputs``), the short summary and
seconds its manifest record keeps, and the stage's own return value (``value``: a report, a trained model's
result, ...), so a caller that needs more than the summary does not read the files again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from embedtune.workspace.workspace import Workspace

T = TypeVar("T")


@dataclass
class StageResult(Generic[T]):
    """One stage call: ``reused`` when its outputs were current (no work done), else it ran just now.

    ``outputs`` (workspace-relative paths), ``summary`` and ``seconds`` come from the stage's manifest record,
    so they describe the run that made the outputs (an earlier one when ``reused``).
    """

    name: str
    reused: bool
    outputs: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    value: T | None = None

    @classmethod
    def recorded(cls, ws: Workspace, name: str, value: T | None, *, reused: bool) -> StageResult[T]:
        """The result of stage ``name`` in ``ws`` as its manifest record now stands."""
        rec = ws.stage_record(name)
        if rec is None:
            return cls(name, reused, value=value)
        return cls(name, reused, list(rec.outputs), dict(rec.summary), rec.seconds, value)
