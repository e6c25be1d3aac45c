"""Hybrid search: BM25 over a version's stored texts, fused with its dense hits by reciprocal rank (RRF).

The BM25 index is built from the texts the version stores, once per version, on the first hybrid query
(so servers that never see one never pay for it); it lives as long as the version stays in the server's
cache. Its memory is the texts plus bm25s's sparse matrix, fine for the corpora embedtune serves on one host.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from embedtune.index.base import Hit
from embedtune.retrieval.base import Document
from embedtune.retrieval.bm25 import BM25Retriever
from embedtune.retrieval.hybrid import reciprocal_rank_fusion

RRF_K = 60  # Cormack et al.'s constant, as embedtune's offline hybrid baseline uses


class LexicalIndex:
    """BM25 over a version's stored chunks, returning :class:`Hit` so results mix freely with dense ones."""

    def __init__(self, chunks: Iterable[Hit]) -> None:
        self._hits: dict[str, Hit] = {}
        docs = []
        for chunk in chunks:
            self._hits[chunk.id] = chunk
            docs.append(Document(id=chunk.id, text=chunk.text))
        self._ids = [d.id for d in docs]
        self._bm25 = BM25Retriever(fields="flat")
        self._bm25.index(docs)

    def __len__(self) -> int:
        return len(self._ids)

    def top(self, query: str, n: int) -> dict[str, float]:
        """The ``n`` best-scoring chunk ids with their BM25 scores; chunks sharing no term are left out."""
        scores = self._bm25.scores(query)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        return {self._ids[i]: float(scores[i]) for i in top if scores[i] > 0}

    def hit(self, chunk_id: str, score: float) -> Hit:
        """The stored row of ``chunk_id`` as a hit with ``score``."""
        return dataclasses.replace(self._hits[chunk_id], score=score)


def fuse(dense: list[Hit], lexical: dict[str, float], index: LexicalIndex, k: int) -> list[Hit]:
    """The top ``k`` of the RRF fusion of dense hits and BM25 scores; each hit's score is its fused score."""
    fused = reciprocal_rank_fusion([{"q": {h.id: h.score for h in dense}}, {"q": lexical}], k=RRF_K, top_k=k)
    by_id = {h.id: h for h in dense}
    return [
        dataclasses.replace(by_id[chunk_id], score=score) if chunk_id in by_id else index.hit(chunk_id, score)
        for chunk_id, score in fused.get("q", {}).items()
    ]
