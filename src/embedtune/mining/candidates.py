"""Candidate negatives: each query's top-N documents that are not among its known positives, best first.

What it optimises: memory that grows with the corpus, never with queries x corpus. Dense search runs
``faiss.knn`` (exact inner product, no index copy of the corpus) over blocks of queries, so only a block's
top-k lists exist at a time; faiss itself tiles the block x corpus product into 4096 x 1024 BLAS tiles. BM25
scores one query at a time (one corpus-length vector). sentence-transformers' miner without faiss computes
the scores of 16,384 queries against the whole corpus at once (for fewer queries: the full queries x corpus
matrix).

Each query retrieves ``N + (its positives)`` documents, so that after dropping the positives ``N`` candidates
remain (fewer only when the corpus runs out). Ranks below are 0-based ranks among the non-positive candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedtune.progress import progress_bar
from embedtune.retrieval.bm25 import BM25Retriever

QUERY_BLOCK = 4096  # queries per faiss call: faiss tiles them by 4096 x 1024 anyway; smaller calls run slower


@dataclass
class Candidates:
    """Top-N non-positive candidates of every query, and the scores of its known positives.

    ``doc_idx[q, r]`` is the corpus row of query ``q``'s candidate at rank ``r`` (-1 pads a short list, whose
    score is -inf); ``positive_scores[q]`` is aligned with the positives given for ``q``;
    ``positives_ranked[q]`` counts the known positives that ranked among the candidates and were dropped.
    """

    doc_idx: np.ndarray
    scores: np.ndarray
    positive_scores: list[np.ndarray]
    positives_ranked: np.ndarray

    def __len__(self) -> int:
        return len(self.doc_idx)


def _drop_positives(
    idx: np.ndarray, scores: np.ndarray, positives: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The first ``n`` non-positive entries of a ranked list, and how many positives ranked among them."""
    is_pos = np.isin(idx, positives) | (idx < 0)
    keep = np.flatnonzero(~is_pos)[:n]
    cut = keep[-1] + 1 if len(keep) == n else len(idx)
    return idx[keep], scores[keep], int(np.count_nonzero(is_pos[:cut] & (idx[:cut] >= 0)))


def _empty(n_queries: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n_queries, n), -1, dtype=np.int32), np.full((n_queries, n), -np.inf, dtype=np.float32)


def dense_candidates(
    query_vecs: np.ndarray,
    doc_vecs: np.ndarray,
    positives: Sequence[np.ndarray],
    n: int,
    block_size: int = QUERY_BLOCK,
) -> Candidates:
    """Exact top-``n`` non-positive documents per query by inner product (cosine for normalised vectors).

    Args:
        query_vecs: (queries, dim) float32.
        doc_vecs: (docs, dim) float32.
        positives: per query, the corpus rows of its known positives (excluded from the candidates).
        n: candidates per query.
        block_size: queries per search call; memory is O(block_size x (n + positives) + corpus).
    """
    import faiss

    doc_vecs = np.ascontiguousarray(doc_vecs, dtype=np.float32)
    query_vecs = np.ascontiguousarray(query_vecs, dtype=np.float32)
    n_docs = len(doc_vecs)
    doc_idx, cand_scores = _empty(len(query_vecs), n)
    ranked = np.zeros(len(query_vecs), dtype=np.int64)
    pos_scores: list[np.ndarray] = []
    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"searching top-{n} for {len(query_vecs):,} queries", total=len(query_vecs))
        for start in range(0, len(query_vecs), block_size):
            block = query_vecs[start : start + block_size]
            block_pos = positives[start : start + block_size]
            k = min(n + max(len(p) for p in block_pos), n_docs)
            scores, idx = faiss.knn(block, doc_vecs, k, metric=faiss.METRIC_INNER_PRODUCT)
            for row, (q_idx, q_scores, pos) in enumerate(zip(idx, scores, block_pos)):
                kept_idx, kept_scores, ranked[start + row] = _drop_positives(q_idx, q_scores, pos, n)
                doc_idx[start + row, : len(kept_idx)] = kept_idx
                cand_scores[start + row, : len(kept_idx)] = kept_scores
                pos_scores.append((doc_vecs[pos] @ block[row]).astype(np.float32))
            bar.advance(task, len(block))
    return Candidates(doc_idx, cand_scores, pos_scores, ranked)


def bm25_candidates(
    retriever: BM25Retriever,
    query_texts: Sequence[str],
    positives: Sequence[np.ndarray],
    n: int,
) -> Candidates:
    """Top-``n`` non-positive documents per query by BM25 score, from an indexed :class:`BM25Retriever`.

    Documents sharing no term with the query (score 0) are left out: they are random passages, not hard
    negatives, and the trainer tops short rows up with random passages anyway.
    """
    doc_idx, cand_scores = _empty(len(query_texts), n)
    ranked = np.zeros(len(query_texts), dtype=np.int64)
    pos_scores: list[np.ndarray] = []
    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"BM25 top-{n} for {len(query_texts):,} queries", total=len(query_texts))
        for q, (text, pos) in enumerate(zip(query_texts, positives)):
            scores = retriever.scores(text)
            pos_scores.append(scores[pos].astype(np.float32))
            k = min(n + len(pos), len(scores))
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            top = top[scores[top] > 0]
            kept_idx, kept_scores, ranked[q] = _drop_positives(top, scores[top], pos, n)
            doc_idx[q, : len(kept_idx)] = kept_idx
            cand_scores[q, : len(kept_idx)] = kept_scores
            bar.advance(task)
    return Candidates(doc_idx, cand_scores, pos_scores, ranked)
