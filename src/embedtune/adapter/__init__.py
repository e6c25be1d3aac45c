"""Query-only adapters: adapt retrieval to your data without re-embedding the corpus.

Fine-tuning the embedding model means re-embedding every stored vector, which can take hours to days for a
large index. A query adapter leaves the corpus vectors (and the index) exactly as they are and learns a small
map applied to query vectors only, trained from the same rows as a fine-tune (mined negatives, teacher labels)
against the frozen corpus vectors, at every Matryoshka dim. :func:`compare_base_and_adapter` says whether it is
enough, per dim and against a full fine-tune, and what each path costs, and recommends one.

Example::

    from embedtune.adapter import AdapterConfig, QueryAdapter, train_adapter
    result = train_adapter("embedtune-runs/default", AdapterConfig(base_model="all-MiniLM-L6-v2"))
    adapter = QueryAdapter.load(result.path)
    adapted = adapter.apply(query_vectors)   # (n, 384) base-model query vectors -> adapted, normalised
"""

from embedtune.adapter.config import AdapterConfig
from embedtune.adapter.evaluate import (
    AdaptedRetriever,
    AdapterComparison,
    PathCost,
    compare_base_and_adapter,
    compare_in_workspace,
    measure_encode_rate,
)
from embedtune.adapter.model import QueryAdapter
from embedtune.adapter.recommend import Recommendation, recommend
from embedtune.adapter.train import AdapterResult, train_adapter

__all__ = [
    "AdaptedRetriever",
    "AdapterComparison",
    "AdapterConfig",
    "AdapterResult",
    "PathCost",
    "QueryAdapter",
    "Recommendation",
    "compare_base_and_adapter",
    "compare_in_workspace",
    "measure_encode_rate",
    "recommend",
    "train_adapter",
]
