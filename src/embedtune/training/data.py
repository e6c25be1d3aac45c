"""Training rows: (anchor, positive, negatives...) as the column layout sentence-transformers expects."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass(frozen=True)
class TrainPair:
    """A query, a passage it is answered by, and passages it is not (hard negatives, possibly none)."""

    query: str
    positive: str
    negatives: tuple[str, ...] = field(default_factory=tuple)


def to_dataset(rows: Sequence[TrainPair], n_negatives: int, pool: Sequence[str] = (), seed: int = 0) -> Dataset:
    """A Dataset with ``anchor, positive, negative_1..n``.

    Every row needs the same number of negatives. Rows short of ``n_negatives`` are topped up with random
    passages from ``pool`` (random negatives are almost never relevant) instead of being dropped, which is
    what sentence-transformers' miner does and what loses ~10% of the training pairs on SciFact.
    """
    from datasets import Dataset

    rng = random.Random(seed)
    columns: dict[str, list[str]] = {"anchor": [], "positive": []}
    for i in range(n_negatives):
        columns[f"negative_{i + 1}"] = []
    for row in rows:
        negatives = list(row.negatives[:n_negatives])
        for _ in range(100 * n_negatives):
            if len(negatives) == n_negatives or not pool:
                break
            candidate = pool[rng.randrange(len(pool))]
            if candidate != row.positive and candidate not in negatives:
                negatives.append(candidate)
        if len(negatives) < n_negatives:
            raise ValueError(f"cannot find {n_negatives} negatives for a row: the passage pool is too small")
        columns["anchor"].append(row.query)
        columns["positive"].append(row.positive)
        for i, neg in enumerate(negatives):
            columns[f"negative_{i + 1}"].append(neg)
    return Dataset.from_dict(columns)
