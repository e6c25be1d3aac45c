"""Contrastive fine-tuning (MNRL / cached MNRL / GIST / triplet, wrapped in Matryoshka; optional LoRA)."""

from embedtune.training.config import TrainConfig
from embedtune.training.data import TrainPair, to_dataset
from embedtune.training.train import EvalSplit, TrainResult, train_model

__all__ = ["EvalSplit", "TrainConfig", "TrainPair", "TrainResult", "to_dataset", "train_model"]
