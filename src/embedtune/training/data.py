"""Training rows: (anchor, positive, negatives...) as the column layout sentence-transformers expects."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from embedtune.workspace.artifacts import TRAIN_TRIPLETS
from embedtune.workspace.rows import TeacherRow, Triplet

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass(frozen=True)
class TrainPair:
    """A query, a passage it is answered by, and passages it is not (hard negatives, possibly none)."""

    query: str
    positive: str
    negatives: tuple[str, ...] = field(default_factory=tuple)
    labels: tuple[float, ...] = ()  # teacher scores of [positive, *negatives] (the teach stage); () = none


def triplet_pairs(triplets: Iterable[Triplet], include_relabelled: bool = True) -> list[TrainPair]:
    """One :class:`TrainPair` per mined (query, positive) row.

    With ``include_relabelled``, each passage the cross-encoder relabelled as a positive of a query adds one
    more row (once per query) with the same negatives, as RLHN trains on them.
    """
    out: list[TrainPair] = []
    seen: set[tuple[str, str]] = set()
    for t in triplets:
        negatives = tuple(t.negatives)
        out.append(TrainPair(t.query, t.positive, negatives))
        if include_relabelled:
            for pid, text in zip(t.relabelled_positive_ids, t.relabelled_positives):
                if (t.query_id, pid) not in seen:
                    seen.add((t.query_id, pid))
                    out.append(TrainPair(t.query, text, negatives))
    return out


def load_triplets(path: str | Path, include_relabelled: bool = True) -> list[TrainPair]:
    """Training rows from a ``train_triplets.jsonl`` file (see :func:`triplet_pairs`)."""
    return triplet_pairs(TRAIN_TRIPLETS.iter_path(path), include_relabelled)


def teacher_pairs(rows: Iterable[TeacherRow]) -> list[TrainPair]:
    """Training rows with the teacher's labels of ``[positive, *negatives]``, for distillation."""
    return [TrainPair(r.query, r.positive, tuple(r.negatives), tuple(r.labels)) for r in rows]


def to_dataset(rows: Sequence[TrainPair], n_negatives: int, pool: Sequence[str] = (), seed: int = 0) -> Dataset:
    """A Dataset with ``anchor, positive, negative_1..n``.

    Every row needs the same number of negatives. Rows short of ``n_negatives`` are topped up with random
    passages from ``pool`` (random negatives are almost never relevant) instead of being dropped, which is
    what sentence-transformers' miner does and what loses ~10% of the training pairs on SciFact.

    When every row has teacher ``labels``, a ``label`` column holds them ([positive, negative_1..n]); a topped-up
    random negative gets the row's lowest label minus its label range (a random passage is less relevant than
    any candidate the teacher read).
    """
    from datasets import Dataset

    rng = random.Random(seed)
    columns: dict[str, list[str]] = {"anchor": [], "positive": []}
    for i in range(n_negatives):
        columns[f"negative_{i + 1}"] = []
    with_labels = bool(rows) and all(r.labels for r in rows)
    labels: list[list[float]] = []
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
        if with_labels:
            known = list(row.labels[: 1 + min(n_negatives, len(row.negatives))])
            floor = min(known) - (max(known) - min(known) or 1.0)
            labels.append(known + [floor] * (1 + n_negatives - len(known)))
    if with_labels:
        columns["label"] = labels  # type: ignore[assignment]
    return Dataset.from_dict(columns)
