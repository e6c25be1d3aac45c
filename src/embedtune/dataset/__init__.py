"""Training and evaluation sets built from a workspace: leakage-free splits and near-duplicate checks."""

from embedtune.dataset.split import SplitConfig, SplitResult, TrainQuery, split_queries
from embedtune.dataset.stage import build_split, iter_pairs, load_pairs

__all__ = ["SplitConfig", "SplitResult", "TrainQuery", "build_split", "iter_pairs", "load_pairs", "split_queries"]
