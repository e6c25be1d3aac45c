"""Settings of the regression gate: the ``gate:`` section of the run config."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class GateConfig(BaseModel):
    """How the gate merges, scores and decides what a run delivers (see :mod:`embedtune.gate`).

    Example::

        from embedtune.gate import GateConfig

        config = GateConfig(alphas=[0.5, 1.0], ood_dataset=["../shared/datasets/cranfield"])
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run the gate after training; off = deliver the tuned model unchecked.")
    alphas: list[float] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75, 1.0],
        description="Merge weights to try: theta = (1 - alpha) * base + alpha * tuned; 1.0 is the tuned model.",
    )
    alpha_tolerance: float = Field(
        0.001, ge=0,
        description="Dev means (over dims) this close count as a tie, won by the smaller alpha (closer to base).",
    )
    harm_p: float = Field(
        0.10, gt=0, le=1,
        description="A fall on dev counts as real when the paired randomisation test's two-sided p is below this "
        "(0.10 two-sided = 0.05 one-sided).",
    )
    max_dev_drop: float = Field(
        0.02, ge=0, description="A fall on dev larger than this refuses the candidate whatever its p-value."
    )
    min_gain: float = Field(
        0.0, ge=0, description="The candidate's dev NDCG@10, averaged over dims, must beat base by more than this."
    )
    gain_p: float = Field(0.05, gt=0, le=1, description="p-value below which a rise on dev is called significant.")
    ceiling: float = Field(
        0.95, gt=0, le=1,
        description="Base dev NDCG@10 at the full dim above this: the dev slice cannot show gains (too easy).",
    )
    ceiling_fallback: Literal["base", "merge"] = Field(
        "merge",
        description="When the dev slice cannot choose: keep base, or deliver the fallback_alpha merge if it "
        "neither falls on dev nor fails the out-of-domain guard.",
    )
    fallback_alpha: float = Field(0.5, gt=0, le=1, description="The merge delivered by ceiling_fallback: merge.")
    ood: bool = Field(True, description="Score every candidate on an out-of-domain slice (the guard).")
    ood_dataset: list[Path] | None = Field(
        None,
        description="BEIR folders for the out-of-domain guard (qrels/test.tsv, else the first split); "
        "none = the bundled PubMedQA slice (samples/ood/SOURCE.md).",
    )
    max_ood_drop: float | None = Field(
        0.01, ge=0,
        description="Largest allowed fall in out-of-domain NDCG@10 at any dim (0.01 = 1 point); none = report only.",
    )
    ood_max_queries: int = Field(100, ge=1, description="Seeded sample of out-of-domain queries (per folder).")
    ood_max_docs: int = Field(1000, ge=10, description="Out-of-domain corpus cap: relevant docs + seeded others.")
    keep_grid: bool = Field(
        False, description="Save every merge of the grid to the gate folder (else only the delivered one)."
    )
    batch_size: int = Field(32, ge=1, description="Encoding batch size while scoring.")
    seed: int = 0

    @field_validator("alphas")
    @classmethod
    def _alphas(cls, value: list[float]) -> list[float]:
        if not value or any(not 0 < a <= 1 for a in value):
            raise ValueError("alphas must be a non-empty list of numbers in (0, 1] (0 is the base model itself)")
        return sorted(set(value))

    @field_validator("ood_dataset", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, (str, Path)) else value
