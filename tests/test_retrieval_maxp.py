"""MaxP: documents score as their best chunk; duplicate chunks credit every document they stand for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from embedtune.retrieval import Document, Retriever, Run
from embedtune.retrieval.maxp import MaxPRetriever


class FixedRun(Retriever):
    name = "fixed"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.asked_k = 0

    def index(self, docs: Sequence[Document]) -> None:
        pass

    def search(self, queries: Mapping[str, str], k: int = 100) -> Run:
        self.asked_k = k
        top = sorted(self.scores, key=self.scores.get, reverse=True)[:k]
        return {q: {c: self.scores[c] for c in top} for q in queries}


def test_document_takes_its_best_chunk_and_results_are_cut_to_k():
    inner = FixedRun({"a1": 0.9, "a2": 0.95, "b1": 0.93, "c1": 0.5, "dup": 0.7})
    chunk_docs = {"a1": ["A"], "a2": ["A"], "b1": ["B"], "c1": ["C"], "dup": ["D", "E"]}
    run = MaxPRetriever(inner, chunk_docs, depth_factor=3).search({"q": "text"}, k=4)
    assert inner.asked_k == 12
    assert run["q"] == {"A": 0.95, "B": 0.93, "D": 0.7, "E": 0.7}
    assert MaxPRetriever(inner, chunk_docs).name == "fixed"
