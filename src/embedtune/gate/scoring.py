"""Per-query NDCG@10 of one model on a small retrieval slice, at every Matryoshka dim, encoding once.

The gate compares several models (base, tuned, merges) on the same queries, so it needs per-query scores for
the paired test, not just means. Each model encodes the slice once at full size; every smaller dim is the
re-normalised prefix (the same truncation the index and the evaluation report use), and scoring is the same
trec_eval code as the final report (:func:`embedtune.evaluation.metrics.evaluate_run`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from embedtune.errors import EmbedtuneError
from embedtune.evaluation.metrics import evaluate_run

METRIC = "ndcg@10"
DEPTH = 100  # retrieved per query: NDCG@10 needs 10, the rest keeps ties at the cut honest


@dataclass(frozen=True)
class RetrievalSlice:
    """Queries, a corpus and graded judgments, small enough to score several models on.

    Attributes:
        name: where it came from (``dev``, a BEIR folder name, ``pubmedqa-slice``).
        queries: query id -> text.
        corpus: doc id -> text.
        qrels: query id -> doc id -> grade (> 0 relevant).
    """

    name: str
    queries: Mapping[str, str]
    corpus: Mapping[str, str]
    qrels: Mapping[str, Mapping[str, int]]

    @classmethod
    def from_eval_split(cls, split: Any, name: str = "dev") -> RetrievalSlice:
        """From a training :class:`~embedtune.training.train.EvalSplit` (binary ``relevant`` sets)."""
        qrels = {q: {d: 1 for d in docs} for q, docs in split.relevant.items() if docs}
        return cls(name, dict(split.queries), dict(split.corpus), qrels)


def score_slice(
    model: Any, data: RetrievalSlice, dims: Sequence[int], batch_size: int = 32
) -> dict[int, dict[str, float]]:
    """``{dim: {query id: NDCG@10}}`` of ``model`` (a SentenceTransformer) on ``data``.

    Every judged query with a relevant document is scored (0 when nothing relevant is retrieved).
    """
    from embedtune.retrieval.dense import exact_search, truncate_dims
    from embedtune.retrieval.embedding_cache import encode_texts

    if not data.queries or not data.corpus:
        raise EmbedtuneError(f"{data.name}: no queries or no documents to score")
    qids, doc_ids = list(data.queries), list(data.corpus)
    queries = encode_texts(model, [data.queries[q] for q in qids], "query", batch_size, progress=False)
    docs = encode_texts(model, [data.corpus[d] for d in doc_ids], "document", batch_size, progress=False)
    out: dict[int, dict[str, float]] = {}
    for dim in dims:
        idx, scores = exact_search(truncate_dims(queries, dim), truncate_dims(docs, dim), k=DEPTH)
        run = {q: {doc_ids[j]: float(s) for j, s in zip(idx[i], scores[i])} for i, q in enumerate(qids)}
        out[dim] = evaluate_run(data.qrels, run, [METRIC]).per_query[METRIC]
    return out
