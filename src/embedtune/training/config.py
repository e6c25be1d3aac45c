"""Training settings: one pydantic model, serialised into the run config and the model card."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

LossName = Literal["mnrl", "cached-mnrl", "gist", "triplet"]


class TrainConfig(BaseModel):
    """How to fine-tune. Defaults follow the field: MNRL + Matryoshka, lr 2e-5 (1e-4 with LoRA), warmup 10%."""

    model_config = ConfigDict(extra="forbid")

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
    distill: Literal["none", "kl", "margin-mse"] = Field(
        default="none",
        description="Distil the teach stage's labels (train_teacher.jsonl): listwise KL or MarginMSE, added to MNRL.",
    )
    distill_weight: float = Field(default=1.0, ge=0, description="Weight of the distillation term (MNRL's is 1).")
    distill_temperature: float = Field(
        default=1.0, gt=0, description="Teacher labels are divided by this before distilling (> 1: softer targets)."
    )
    max_rows: int | None = Field(default=None, ge=1, description="Train on a seeded sample of this many rows (time budget).")
    epochs: float = Field(default=1.0, gt=0, le=100)
    batch_size: int = Field(default=32, ge=2, description="Rows per step (>= 2: MNRL needs in-batch negatives).")
    mini_batch_size: int = Field(default=16, ge=1, description="cached-mnrl: forward chunk size (memory bound).")
    learning_rate: float | None = Field(default=None, gt=0, lt=1, description="None = 2e-5 full, 1e-4 LoRA.")
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    scale: float = Field(default=20.0, gt=0, description="MNRL logit scale = 1 / temperature.")
    gist_temperature: float = Field(default=0.01, gt=0)
    triplet_margin: float = Field(default=0.3, ge=0)
    max_seq_length: int | None = Field(
        default=None, ge=8, description="Truncate training inputs (speed); the saved model keeps its own limit."
    )
    bf16: bool | Literal["auto"] = Field(
        default="auto", description="bf16 autocast: auto (on with AMX / AVX512-BF16 or a bf16 GPU), true, false."
    )
    lora: bool = False
    lora_r: int = Field(default=16, ge=1)
    lora_alpha: int = Field(default=32, ge=1)
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    eval_every_steps: int | None = Field(default=None, ge=1, description="None = once per epoch.")
    seed: int = 0

    @field_validator("matryoshka_dims")
    @classmethod
    def _positive_dims(cls, dims: list[int] | None) -> list[int] | None:
        if dims is not None and any(d < 1 for d in dims):
            raise ValueError(f"every Matryoshka dim must be a positive number of dimensions, got {dims}")
        return dims

    def resolved_lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else (1e-4 if self.lora else 2e-5)

    def resolved_dims(self, model_dim: int) -> list[int]:
        """Matryoshka dims, largest first; the full dim is always included."""
        if self.matryoshka_dims is not None:
            if too_big := [d for d in self.matryoshka_dims if d > model_dim]:
                from embedtune.errors import EmbedtuneError

                raise EmbedtuneError(f"matryoshka_dims {too_big} exceed the model's {model_dim} dimensions")
            dims = [d for d in self.matryoshka_dims if d < model_dim]
            return [model_dim, *sorted(set(dims), reverse=True)] if self.matryoshka_dims else []
        dims, d = [model_dim], model_dim // 2
        while d >= 64:
            dims.append(d)
            d //= 2
        return dims
