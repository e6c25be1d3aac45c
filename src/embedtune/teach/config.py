"""Teach settings: which teacher scores the training rows, how many candidates it reads, what it filters."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from embedtune.models.registry import TEACHER_CROSS_ENCODER, TEACHER_EMBEDDER

TeacherName = Literal["auto", "cross-encoder", "dense", "fusion", "ensemble", "none"]


class TeachConfig(BaseModel):
    """How the ``teach`` stage labels training rows with a stronger ranker's scores (GPL / CADET style).

    Teachers (each signal is z-normalised over the row's candidates, then averaged, then times ``spread``):
    ``cross-encoder`` (ms-marco-MiniLM-L-12-v2), ``dense`` (bge-small-en-v1.5, or the base model when it is not
    installed), ``fusion`` (BM25 + dense), ``ensemble`` (all three); ``auto`` = ensemble when the teachers are
    installed, else fusion of BM25 and the base model; ``none`` skips the stage (and training distils nothing).
    """

    model_config = ConfigDict(extra="forbid")

    teacher: TeacherName = Field("auto", description="auto, cross-encoder, dense, fusion (BM25 + dense), ensemble, or none (no teach stage).")
    cross_encoder: str = Field(TEACHER_CROSS_ENCODER, description="Cross-encoder: registry name, folder or cached hub id.")
    dense: str = Field(TEACHER_EMBEDDER, description="Dense teacher: registry name or ONNX folder; 'base' (or not installed) = the base model.")
    candidates: int = Field(6, ge=1, le=50, description="Candidates scored per row besides its positive (mined first, then hybrid top).")
    keep_negatives: int = Field(3, ge=1, le=50, description="Negatives kept per row: the teacher's hardest below the positive.")
    max_rows: int | None = Field(1280, ge=1, description="Teach a seeded sample of this many rows (the teacher's time budget).")
    hard_share: float = Field(
        0.0, ge=0, le=1,
        description="Share of max_rows taken from the rows the base model separates least (the rest: random).",
    )
    margin: float = Field(0.0, ge=0, description="Drop a candidate whose teacher label is within this of the positive's (false negative).")
    consistency_rank: int | None = Field(
        2, ge=1, description="Drop a row unless the teacher ranks its positive in this top among its candidates; None = off."
    )
    spread: float = Field(3.0, gt=0, description="Labels = spread x mean z-score: the softness of the teacher's distribution.")
    max_length: int = Field(256, ge=16, description="Tokens the teachers read per (query, passage).")
    batch_size: int = Field(32, ge=1, description="Pairs per teacher forward pass.")
    dev_queries: int = Field(100, ge=0, description="Dev queries on which the teacher's own NDCG@10 is reported; 0 = skip.")
    seed: int = 0
