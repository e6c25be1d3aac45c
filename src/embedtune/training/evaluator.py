"""In-training evaluation: NDCG@10 on the held-out split at every Matryoshka dim.

Uses sentence-transformers' InformationRetrievalEvaluator (exact cosine search) so that the trainer can keep
the best checkpoint by the full-dim NDCG@10.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def build_ir_evaluator(
    queries: Mapping[str, str],
    corpus: Mapping[str, str],
    relevant: Mapping[str, set[str]],
    dims: list[int],
    batch_size: int = 64,
) -> Any:
    """A SequentialEvaluator with one IR evaluator per dim, named ``dim<d>``; its main score is the first dim's."""
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
        SequentialEvaluator,
    )

    evaluators = [
        InformationRetrievalEvaluator(
            dict(queries), dict(corpus), dict(relevant), name=f"dim{d}", truncate_dim=d, batch_size=batch_size,
            ndcg_at_k=[10], mrr_at_k=[10], map_at_k=[100], accuracy_at_k=[1, 10], precision_recall_at_k=[10, 100],
            write_csv=False, show_progress_bar=False,
        )
        for d in dims
    ]
    return SequentialEvaluator(evaluators, main_score_function=lambda scores: scores[0])


def best_metric_key(dims: list[int]) -> str:
    """The trainer metric that selects the best checkpoint: full-dim cosine NDCG@10."""
    return f"eval_dim{dims[0]}_cosine_ndcg@10"
