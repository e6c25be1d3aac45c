"""Document-level retrieval over chunks: a document scores as its best chunk (MaxP).

Users judge documents, while embedtune indexes chunks. MaxP turns any chunk retriever into a document
retriever: search deeper than ``k`` chunks (``depth_factor`` times) and keep each document's highest-scoring
chunk. Chunks that ingest dropped as duplicates credit every document they stood for.

Reference: Dai & Callan, "Deeper Text Understanding for IR with Contextual Neural Language Modeling"
(SIGIR 2019), where MaxP is the strongest passage-to-document aggregation for long documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from embedtune.retrieval.base import Document, Retriever, Run, ranked


def max_passage(hits: Iterable[tuple[Iterable[str], float]], k: int) -> dict[str, float]:
    """Top-``k`` documents scored by their best chunk, from ``(documents the chunk stands for, score)`` hits.

    The one MaxP rule, shared by retrievers (:class:`MaxPRetriever`) and index versions (``index.shadow``).
    """
    best: dict[str, float] = {}
    for docs, score in hits:
        for doc in docs:
            if score > best.get(doc, float("-inf")):
                best[doc] = score
    return {d: best[d] for d in ranked(best)[:k]}


class MaxPRetriever(Retriever):
    """Wrap a chunk retriever so that it returns documents; keeps the inner retriever's name."""

    def __init__(self, inner: Retriever, chunk_docs: Mapping[str, Sequence[str]], depth_factor: int = 5) -> None:
        self.inner = inner
        self.chunk_docs = chunk_docs
        self.depth_factor = depth_factor
        self.name = inner.name

    def index(self, docs: Sequence[Document]) -> None:
        self.inner.index(docs)

    def search(self, queries: Mapping[str, str], k: int = 100) -> Run:
        chunk_run = self.inner.search(queries, k * self.depth_factor)
        return {
            qid: max_passage(((self.chunk_docs.get(c, (c,)), score) for c, score in scores.items()), k)
            for qid, scores in chunk_run.items()
        }
