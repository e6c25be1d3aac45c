"""The one retriever interface every system (BM25, dense, hybrid, rerank) implements.

A *run* maps query id -> {doc id: score}, the trec_eval / pytrec_eval / ranx convention, higher is better.
"""

from __future__ import annotations

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
