"""Settings of ``embedtune retrain``: the data mix, click weighting, held-out split, and the promotion gate."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from embedtune.mining.config import MiningConfig
from embedtune.training.config import TrainConfig
from embedtune.yaml_file import read_yaml, validate_settings


class GateConfig(BaseModel):
    """When a retrained model may replace the current one: it must not regress on either held-out set."""

    metric: str = Field("ndcg@10", description="Metric both evaluations gate on.")
    max_golden_drop: float = Field(0.0, description="Largest allowed fall on the golden eval set (eval/); 0 = none.")
    max_feedback_drop: float = Field(0.0, description="Largest allowed fall on held-out feedback queries.")
    min_feedback_queries: int = Field(10, ge=1, description="Fewer held-out feedback queries: that gate is skipped.")


def _train_default() -> TrainConfig:
    # Continued training from the current model on 2 CPU cores: the pipeline's budget.
    return TrainConfig(max_rows=1024, hard_negatives=1, max_seq_length=128)


class RetrainConfig(BaseModel):
    """How ``embedtune retrain`` turns feedback into the next model version."""

    feedback_share: float = Field(0.5, ge=0, le=1, description="Share of training rows from feedback (rest synthetic).")
    weighting: Literal["ipw", "naive"] = Field(
        "ipw", description="ipw: debiased click rates above the noise floor; naive: each click counts 1."
    )
    propensity: Literal["em", "swap"] = Field("em", description="Position-bias estimator: em (any log) or swap.")
    max_rank: int = Field(10, ge=2, description="Deepest rank the click model fits.")
    clip: float = Field(10.0, ge=1, description="Largest IPW weight (bounds the variance of deep clicks).")
    min_dwell_s: float | None = Field(None, ge=0, description="Ignore clicks shorter than this (bounces).")
    skip_above_negatives: bool = Field(True, description="Use results skipped above a click as negatives.")
    holdout: Literal["hash", "time"] = Field(
        "hash", description="Held-out feedback: queries by hash (no leakage), or the newest searches (time)."
    )
    holdout_share: float = Field(0.2, gt=0, lt=1)
    gate: GateConfig = Field(default_factory=GateConfig)
    mining: MiningConfig = Field(default_factory=lambda: MiningConfig(num_negatives=3))
    train: TrainConfig = Field(default_factory=_train_default)
    seed: int = 0


def load_retrain_config(path: str | Path) -> RetrainConfig:
    """A YAML file: its ``retrain:`` section when it has one (an ``embedtune.yaml``), else the whole document."""
    data = read_yaml(path)
    if isinstance(data, dict) and "retrain" in data:
        data = data["retrain"] or {}
    return validate_settings(RetrainConfig, data, path)

