"""Choosing a row's negatives among the candidates that survived the filters: ``top`` or ``random``.

What it optimises: ``top`` takes the hardest survivors, the setting NV-Retriever found best with a positive-aware
filter in front; ``random`` trades some difficulty for variety (and a lower chance that several negatives are
near-duplicates of one another). Random draws are seeded per (seed, query id, positive id), so a row gets the
same negatives whatever the order or number of the other rows.

With a cross-encoder check, a row offers its candidates in sampling order, a few at a time: each round asks
the check about exactly as many unread candidates as the row still needs, across all rows at once, until every
row is full or out of candidates. The expensive model reads only what could become a negative, not all top-N.
Negatives come back hardest first whatever the strategy, as sentence-transformers' miner returns them.

A row that ends with fewer negatives than asked for is kept (sentence-transformers drops it); the trainer tops it
up with random passages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from embedtune.mining.config import Sampling

# (query indices, candidate ranks) -> is each candidate relevant to its query?
RelevanceCheck = Callable[[np.ndarray, np.ndarray], np.ndarray]


def row_rng(seed: int, query_id: str, positive_id: str) -> np.random.Generator:
    """A generator that depends only on the seed and the row's identity."""
    digest = hashlib.sha256(f"{seed}\x00{query_id}\x00{positive_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def offer_order(survivors: np.ndarray, strategy: Sampling, rng: np.random.Generator | None = None) -> np.ndarray:
    """The survivors' ranks in the order a row offers them: best first (``top``) or shuffled (``random``)."""
    if strategy == "top":
        return survivors
    if rng is None:
        raise ValueError("random sampling needs a generator")
    return rng.permutation(survivors)


@dataclass
class RowPlan:
    """One row's candidates in offer order, and what became of those already offered."""

    query: int
    order: np.ndarray
    offered: int = 0
    accepted: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)

    def negatives(self) -> np.ndarray:
        """Accepted ranks, hardest first."""
        return np.sort(np.asarray(self.accepted, dtype=np.int64))


def select(plans: list[RowPlan], k: int, relevant: RelevanceCheck | None = None) -> None:
    """Fill each plan with up to ``k`` negatives; with ``relevant``, candidates it flags go to ``flagged``."""
    if relevant is None:
        for p in plans:
            p.accepted = [int(r) for r in p.order[:k]]
            p.offered = len(p.accepted)
        return
    pending = [p for p in plans if p.offered < len(p.order)]
    while pending:
        asked = [(p, p.order[p.offered : p.offered + k - len(p.accepted)]) for p in pending]
        queries = np.concatenate([np.full(len(ranks), p.query) for p, ranks in asked])
        ranks = np.concatenate([ranks for _, ranks in asked])
        verdicts = iter(relevant(queries, ranks))
        for p, offered in asked:
            p.offered += len(offered)
            for r in offered:
                (p.flagged if next(verdicts) else p.accepted).append(int(r))
        pending = [p for p in pending if len(p.accepted) < k and p.offered < len(p.order)]
