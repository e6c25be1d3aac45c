"""Settings of the query-only adapter (the ``adapter:`` section of a run config)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from embedtune.models.registry import DEFAULT_MODEL


class AdapterConfig(BaseModel):
    """How :func:`embedtune.adapter.train_adapter` trains a query-side adapter.

    Defaults fit 2 CPU cores: the corpus is never encoded, queries are encoded once, and training is a few
    thousand small matrix products (seconds).
    """

    base_model: str | None = Field(
        default=None,
        description=f"The model whose corpus vectors the index holds; None = the run config's base_model "
        f"(else {DEFAULT_MODEL}).",
    )
    kind: Literal["linear", "mlp"] = Field(
        default="linear",
        description="linear: one square matrix, identity-initialised; mlp: x + W2 relu(W1 x), W2 zero-initialised.",
    )
    hidden: int = Field(default=256, ge=1, description="Hidden width of the mlp adapter.")
    dims: list[int] | None = Field(
        default=None,
        description="Matryoshka dims the adapted query must serve; None = the full dim and its halves down to 64.",
    )
    epochs: int = Field(default=20, ge=1)
    batch_size: int = Field(default=64, ge=2)
    learning_rate: float = Field(default=1e-3, gt=0)
    scale: float = Field(default=20.0, gt=0, description="Cosine scores are multiplied by it (1 / temperature).")
    hard_negatives: int = Field(default=3, ge=0, description="Mined negatives per row (from train_triplets.jsonl).")
    identity_weight: float = Field(
        default=0.01, ge=0, description="L2 pull of the weights towards the identity (keeps the adapter close to base)."
    )
    distill: Literal["auto", "kl", "none"] = Field(
        default="auto",
        description="KL to the teacher's labels of train_teacher.jsonl: auto = when that file exists.",
    )
    distill_weight: float = Field(default=1.0, ge=0)
    teacher_temperature: float = Field(default=1.0, gt=0, description="Teacher labels are divided by it.")
    max_rows: int | None = Field(default=None, ge=1, description="Train on a seeded sample of at most this many rows.")
    select_on_dev: bool = Field(
        default=True,
        description="Keep the epoch (identity included) with the best mean dev NDCG@10 over the dims, when dev "
        "pairs exist: the adapter is never worse than base on dev.",
    )
    seed: int = 0

    def resolved_base_model(self) -> str:
        """``base_model``, or the default model when unset (a run config fills it from its own ``base_model``)."""
        return self.base_model or DEFAULT_MODEL
    inference: str | None = Field(
        default=None,
        description="Backend that encodes queries (and that made the cached corpus vectors); None = the process default.",
    )
