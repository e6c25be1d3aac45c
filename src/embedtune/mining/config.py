"""Mining settings: one pydantic model; every field is a stage parameter, so changing one makes ``mine`` run again.

Defaults follow NV-Retriever's best method, TopK-PercPos at 95% (Moreira et al., "NV-Retriever: Improving text
embedding models with effective hard-negative mining", 2024): take the hardest candidates from the mining model's
top 100, but drop any that score above 95% of the positive's score, because past that point the "hardest
negative" is more often an unlabelled relevant passage than a useful negative. The rank window starts at 0: the
positive-aware filter is the false-negative guard, and skipping a fixed number of top ranks (sentence-transformers
users often skip 10) throws away the hardest *true* negatives with them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from embedtune.encoding.base import Inference
from embedtune.models.registry import DEFAULT_MODEL

MAX_NEGATIVES = 40

PositiveReference = Literal["min", "own"]
Sampling = Literal["top", "random"]


class MiningConfig(BaseModel):
    """How to mine hard negatives for (query, positive) pairs. Filters left as None are off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(
        DEFAULT_MODEL, description="mining model: registry name, folder (e.g. a round-1 model) or cached hub id"
    )
    bm25: bool = Field(False, description="mine with BM25 scores instead of a dense model")
    range_min: int = Field(0, ge=0, description="skip candidates ranked above this (0-based rank among non-positives)")
    range_max: int = Field(100, ge=1, le=10_000, description="candidates retrieved per query (top-N); rank window end")
    percpos: float | None = Field(
        0.95, gt=0, le=1,
        description="topk-percpos: keep candidates scoring below this fraction of the positive's score",
    )
    margin: float | None = Field(
        None, ge=0, description="topk-marginpos: keep candidates scoring below the positive's score minus this"
    )
    max_score: float | None = Field(None, description="topk-abs: keep candidates scoring below this absolute value")
    positive_reference: PositiveReference = Field(
        "min",
        description="the positive score the filters compare with: 'min' = the query's weakest known positive "
        "(the same bar for every row of a query), 'own' = the row's own positive",
    )
    num_negatives: int = Field(7, ge=1, le=MAX_NEGATIVES, description="negatives per (query, positive) row")
    sampling: Sampling = Field("top", description="'top': the hardest survivors; 'random': a seeded sample of them")
    seed: int = 0
    cross_encoder: str | None = Field(None, description="cross-encoder folder re-reading the negatives before use")
    ce_threshold: float | None = Field(None, description="CE score at or above which a candidate counts as relevant")
    ce_relative: float | None = Field(
        0.9, gt=0, le=1,
        description="a candidate whose CE score reaches this fraction of the weakest positive's is relevant",
    )
    relabel: bool = Field(
        False, description="keep CE-relevant candidates as extra positives (RLHN) instead of dropping them"
    )
    auto_threshold: bool = Field(False, description="pick percpos (or margin) from the estimated false-negative rate")
    max_false_negative_rate: float = Field(0.05, gt=0, lt=1, description="target for --auto-threshold")
    batch_size: int = Field(64, ge=1, description="texts per forward pass (encoder and cross-encoder)")
    inference: Inference = Field("torch", description="how the mining model encodes (see embedtune.encoding)")

    @model_validator(mode="after")
    def _consistent(self) -> MiningConfig:
        if self.range_min >= self.range_max:
            raise ValueError(f"range_min ({self.range_min}) must be below range_max ({self.range_max})")
        if self.auto_threshold and self.percpos is None and self.margin is None:
            raise ValueError("auto_threshold tunes percpos or margin: enable one of them")
        if self.cross_encoder is not None and self.ce_threshold is None and self.ce_relative is None:
            raise ValueError("a cross-encoder check needs ce_threshold or ce_relative")
        return self

    @property
    def tuned_filter(self) -> Literal["percpos", "margin"] | None:
        """The filter ``auto_threshold`` tunes: percpos when it is on, else the margin."""
        if not self.auto_threshold:
            return None
        return "percpos" if self.percpos is not None else "margin"
