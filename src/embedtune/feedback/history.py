"""``retrain_history.json``: every retraining round of a workspace, and which model is current.

The file lives at the workspace root and is rewritten atomically after each round. ``current_model`` is the
model the next round starts from, mines with and must beat; it moves only when a round passes the gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from embedtune.errors import EmbedtuneError
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import PIPELINE_ROUNDS, RETRAIN_HISTORY, TRAINED_MODEL


class RoundRecord(BaseModel):
    """One ``embedtune retrain`` round."""

    round: int
    started_at: str
    finished_at: str
    feedback: str
    feedback_sha256: str
    workspace: str  # the round's sub-workspace, relative to the workspace
    current_model: str
    candidate_model: str
    promoted: bool
    reasons: list[str] = Field(default_factory=list)
    searches: dict[str, int] = Field(default_factory=dict)  # train / holdout / ignored
    propensity: dict[str, Any] | None = None
    pairs: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)  # golden / feedback: current, candidate, delta, p
    config: dict[str, Any] = Field(default_factory=dict)


class RetrainHistory(BaseModel):
    current_model: str | None = None
    rounds: list[RoundRecord] = Field(default_factory=list)


def load_history(workspace: Workspace | str | Path) -> RetrainHistory:
    """The workspace's history (empty when no round ran yet)."""
    path = RETRAIN_HISTORY.path(workspace)
    if not path.exists():
        return RetrainHistory()
    try:
        return RETRAIN_HISTORY.read_model(workspace, RetrainHistory)
    except (ValidationError, ValueError):
        raise EmbedtuneError(f"{path}: not a valid retrain history (restore it from a backup or move it away)") from None


def save_history(workspace: Workspace | str | Path, history: RetrainHistory) -> Path:
    return RETRAIN_HISTORY.write(workspace if isinstance(workspace, Workspace) else Workspace(workspace), history)


def current_model(workspace: Workspace | str | Path, history: RetrainHistory | None = None,
                  fallback: str | None = None) -> str:
    """The model users are served now: the history's, else the pipeline's last trained model, else ``fallback``."""
    root = workspace.root if isinstance(workspace, Workspace) else Path(workspace)
    history = history if history is not None else load_history(root)
    if history.current_model:
        return history.current_model
    rounds = [TRAINED_MODEL.path(r) for r in PIPELINE_ROUNDS.existing(root)]
    for candidate in [*reversed(rounds), TRAINED_MODEL.path(root)]:
        if (candidate / "config.json").exists() or (candidate / "modules.json").exists():
            return str(candidate)
    if fallback:
        return fallback
    raise EmbedtuneError(f"{root}: no trained model found; run `embedtune run` first or give a fallback model")
