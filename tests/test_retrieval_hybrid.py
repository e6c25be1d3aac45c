"""Reciprocal rank fusion on a hand-made case, and the hybrid retriever built on it."""

from __future__ import annotations

import pytest

from embedtune.errors import EmbedtuneError
from embedtune.retrieval import BM25Retriever, Document, HybridRetriever, reciprocal_rank_fusion

RUN_A = {"q": {"a": 3.0, "b": 2.0, "c": 1.0}}  # ranks a1 b2 c3
RUN_B = {"q": {"c": 0.9, "a": 0.5, "d": 0.1}, "only_b": {"x": 1.0}}  # ranks c1 a2 d3


def test_rrf_hand_computed():
    fused = reciprocal_rank_fusion([RUN_A, RUN_B], k=60)
    expected = {"a": 1 / 61 + 1 / 62, "c": 1 / 63 + 1 / 61, "b": 1 / 62, "d": 1 / 63}
    assert fused["q"] == pytest.approx(expected)
    assert list(fused["q"]) == ["a", "c", "b", "d"]
    assert fused["only_b"] == {"x": pytest.approx(1 / 61)}  # a query only one run answered still fuses


def test_rrf_weights_k_and_cutoff():
    fused = reciprocal_rank_fusion([RUN_A, RUN_B], k=0, weights=[1.0, 2.0], top_k=2)
    assert fused["q"] == pytest.approx({"c": 1 / 3 + 2 / 1, "a": 1 / 1 + 2 / 2})
    assert list(fused["q"]) == ["c", "a"]
    with pytest.raises(EmbedtuneError, match="2 runs"):
        reciprocal_rank_fusion([RUN_A, RUN_B], weights=[1.0])
    with pytest.raises(EmbedtuneError, match="at least one run"):
        reciprocal_rank_fusion([])


def test_hybrid_retriever_fuses_its_first_stages():
    docs = [Document("a", "red apples and green pears"), Document("b", "green tea leaves"),
            Document("c", "apples grow on trees")]
    stemmed, plain = BM25Retriever(name="stemmed"), BM25Retriever(stemmer=None, name="plain")
    hybrid = HybridRetriever([stemmed, plain], k=60)
    assert hybrid.name == "hybrid:stemmed+plain"
    hybrid.index(docs)
    queries = {"q": "green apples"}
    expected = reciprocal_rank_fusion([stemmed.search(queries, 100), plain.search(queries, 100)], 60, top_k=2)
    assert hybrid.search(queries, k=2) == expected
