"""Candidate search: the blocked faiss search equals a brute-force one, and known positives never come back."""

from __future__ import annotations

import numpy as np

from embedtune.mining.candidates import bm25_candidates, dense_candidates
from embedtune.retrieval import BM25Retriever, Document


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_blocked_search_equals_brute_force_without_positives():
    rng = np.random.default_rng(0)
    docs, queries = _unit(rng.normal(size=(500, 16))), _unit(rng.normal(size=(37, 16)))
    positives = [rng.choice(500, size=rng.integers(1, 6), replace=False) for _ in range(37)]
    n = 20
    got = dense_candidates(queries, docs, positives, n, block_size=5)  # 8 blocks, ragged last one

    full = queries.astype(np.float64) @ docs.T.astype(np.float64)  # what the blocked search must never build
    for q, pos in enumerate(positives):
        scores = full[q].copy()
        scores[pos] = -np.inf
        want = np.argsort(-scores)[:n]
        assert got.doc_idx[q].tolist() == want.tolist()
        np.testing.assert_allclose(got.scores[q], scores[want], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got.positive_scores[q], full[q, pos], rtol=1e-5, atol=1e-6)
        assert got.positives_ranked[q] == int(np.sum(full[q, pos] > scores[want[-1]]))
        assert not set(got.doc_idx[q]) & set(pos)


def test_short_corpus_pads_with_minus_one_and_minus_inf():
    docs = _unit(np.eye(4, dtype=np.float32) + 0.1)
    got = dense_candidates(docs[:1], docs, [np.array([0])], n=10)
    assert got.doc_idx[0, :3].tolist() != [-1, -1, -1] and got.doc_idx[0, 3:].tolist() == [-1] * 7
    assert np.isneginf(got.scores[0, 3:]).all() and got.positives_ranked[0] == 1


def test_bm25_candidates_skip_positives_and_passages_without_shared_terms():
    docs = [Document("a", "solar panel efficiency"), Document("b", "solar panel cost"),
            Document("c", "panel discussion"), Document("d", "unrelated gardening tips")]
    bm25 = BM25Retriever(stopwords=None)
    bm25.index(docs)
    got = bm25_candidates(bm25, ["solar panel efficiency"], [np.array([0])], n=10)
    ids = [docs[i].id for i in got.doc_idx[0] if i >= 0]
    assert ids == ["b", "c"]  # "a" is the positive, "d" shares no term
    assert got.positive_scores[0][0] > got.scores[0, 0] > got.scores[0, 1] > 0
