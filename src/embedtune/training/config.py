"""Training settings: one pydantic model, serialised into the run config and the model card."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

LossName = Literal["mnrl", "cached-mnrl", "gist", "triplet"]


class TrainConfig(BaseModel):
    """How to fine-tune. Defaults follow the field: MNRL + Matryoshka, lr 2e-5 (1e-4 with LoRA), warmup 10%."""

    loss: LossName = "mnrl"
    matryoshka_dims: list[int] | None = Field(
        default=None, description="Dims trained to stand alone; None = model dim halved down to 64; [] = off."
    )
    matryoshka_negatives: Literal["all-dims", "full-dim", "self-distill"] = Field(
        default="all-dims",
        description="Where mined negatives are scored: at every Matryoshka dim, or at the full dim only "
        "(smaller dims then train on in-batch negatives), or self-distill (smaller dims: in-batch negatives "
        "plus the full dim's ranking of every candidate as soft labels).",
    )
    hard_negatives: int = Field(
        default=1, ge=0, description="Mined negatives per query used in training (each adds a passage per row)."
    )
    max_rows: int | None = Field(default=None, ge=1, description="Train on a seeded sample of this many rows (time budget).")
    epochs: float = 1.0
    batch_size: int = 32
    mini_batch_size: int = Field(default=16, description="cached-mnrl: forward chunk size (memory bound).")
    learning_rate: float | None = Field(default=None, description="None = 2e-5 full, 1e-4 LoRA.")
    warmup_ratio: float = 0.1
    scale: float = Field(default=20.0, description="MNRL logit scale = 1 / temperature.")
    gist_temperature: float = 0.01
    triplet_margin: float = 0.3
    max_seq_length: int | None = Field(default=None, description="Truncate training inputs (speed); the saved model keeps its own limit.")
    bf16: bool = Field(default=False, description="bf16 autocast (fast on CPUs with AMX and on GPUs).")
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    eval_every_steps: int | None = Field(default=None, description="None = once per epoch.")
    seed: int = 0

    def resolved_lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else (1e-4 if self.lora else 2e-5)

    def resolved_dims(self, model_dim: int) -> list[int]:
        """Matryoshka dims, largest first; the full dim is always included."""
        if self.matryoshka_dims is not None:
            dims = [d for d in self.matryoshka_dims if d < model_dim]
            return [model_dim, *sorted(set(dims), reverse=True)] if self.matryoshka_dims else []
        dims, d = [model_dim], model_dim // 2
        while d >= 64:
            dims.append(d)
            d //= 2
        return dims
