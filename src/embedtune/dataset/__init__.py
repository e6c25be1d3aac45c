"""Training and evaluation sets built from a workspace: leakage-free splits and near-duplicate checks."""

from embedtune.dataset.split import SplitConfig, SplitResult, TrainQuery, split_queries

__all__ = ["SplitConfig", "SplitResult", "TrainQuery", "split_queries"]
