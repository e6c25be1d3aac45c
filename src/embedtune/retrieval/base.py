"""The one retriever interface every system (BM25, dense, hybrid, rerank) implements.

A *run* maps query id -> {doc id: score}, the trec_eval / pytrec_eval / ranx convention, higher is better.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Run = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Document:
    """A retrievable unit: a BEIR document or an ingested chunk."""

    id: str
    text: str
    title: str = ""

    @property
    def full_text(self) -> str:
        """What gets indexed: title and body, as BEIR evaluates."""
        return f"{self.title} {self.text}".strip() if self.title else self.text


class Retriever(ABC):
    """Index documents once, then answer batches of queries with ranked ids and scores."""

    name: str

    @abstractmethod
    def index(self, docs: Sequence[Document]) -> None:
        """Build the index over ``docs`` (replacing any previous one)."""

    @abstractmethod
    def search(self, queries: Mapping[str, str], k: int = 100) -> Run:
        """Top-``k`` documents per query id."""


def ranked(scores: Mapping[str, float]) -> list[str]:
    """Doc ids best first; ties broken by doc id, descending, exactly as trec_eval (and so pytrec_eval) ranks."""
    return [d for d, _ in sorted(scores.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]


def truncate_run(run: Mapping[str, Mapping[str, float]], k: int) -> Run:
    """Keep each query's top-``k`` documents (trec_eval order)."""
    return {q: {d: float(scores[d]) for d in ranked(scores)[:k]} for q, scores in run.items()}


def corpus_hash(docs: Sequence[Document]) -> str:
    """Content hash of a corpus in order (ids, titles, bodies): the identity of an index or embedding matrix."""
    h = hashlib.sha256()
    for d in docs:  # streamed: a million chunks never become one big string
        h.update(json.dumps([d.id, d.title, d.text], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()
