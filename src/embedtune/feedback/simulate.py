"""Simulated users with a known relevance model and a known position bias, for tests and benchmarks.

Users follow the position-based click model: examine rank k with probability ``propensity[k-1]``, and click an
examined result with ``p_relevant`` when it is relevant (``relevance`` says which are), else ``p_noise``.
Because the truth is known, an estimator (EM, swaps), a weighting (IPW vs naive) and an A/B report can be
checked against it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from embedtune.feedback.ab import team_draft
from embedtune.feedback.log import Click, Experiment, FeedbackRecord, ShownResult


def power_curve(max_rank: int = 10, eta: float = 1.0) -> np.ndarray:
    """``(1/k)^eta`` for k = 1..max_rank: the usual shape of examination (Joachims et al. 2017)."""
    return (1.0 / np.arange(1, max_rank + 1)) ** eta


@dataclass
class Users:
    """The simulated click behaviour (see the module docstring)."""

    propensity: np.ndarray
    p_relevant: float = 0.9
    p_noise: float = 0.05
    dwell_s: float = 30.0

    def clicks(self, shown: Sequence[str], relevant: set[str] | Mapping[str, int], rng: np.random.Generator
               ) -> list[Click]:
        out = []
        for k, doc in enumerate(shown[: len(self.propensity)], 1):
            examined = rng.random() < self.propensity[k - 1]
            p = self.p_relevant if doc in relevant and relevant_grade(relevant, doc) > 0 else self.p_noise
            if examined and rng.random() < p:
                out.append(Click(id=doc, position=k, dwell_s=self.dwell_s))
        return out


def relevant_grade(relevant: set[str] | Mapping[str, int], doc: str) -> int:
    return int(relevant.get(doc, 0)) if isinstance(relevant, Mapping) else int(doc in relevant)


def simulate_log(
    rankings: Mapping[str, Sequence[str]],
    relevance: Mapping[str, set[str] | Mapping[str, int]],
    users: Users,
    searches_per_query: int,
    *,
    queries: Mapping[str, str] | None = None,
    explore_rate: float = 0.0,
    index: str = "v1",
    seed: int = 0,
    start: datetime | None = None,
) -> list[FeedbackRecord]:
    """Searches of every query id in ``rankings`` (shown as ranked), with exploration swaps and clicks.

    ``queries`` maps ids to texts (default: the id is the text); timestamps advance a minute per search.
    """
    rng = np.random.default_rng(seed)
    t = start or datetime(2025, 1, 1, tzinfo=UTC)
    out: list[FeedbackRecord] = []
    qids = list(rankings)
    order = [q for q in qids for _ in range(searches_per_query)]
    rng.shuffle(order)
    for n, qid in enumerate(order):
        shown = list(rankings[qid])[: len(users.propensity)]
        swap = None
        if explore_rate and len(shown) >= 2 and rng.random() < explore_rate:
            p = int(rng.integers(len(shown) - 1))
            shown[p], shown[p + 1] = shown[p + 1], shown[p]
            swap = (p + 1, p + 2)
        out.append(FeedbackRecord(
            timestamp=t + timedelta(minutes=n), query=(queries or {}).get(qid, qid), index=index,
            results=[ShownResult(id=d, position=i) for i, d in enumerate(shown, 1)],
            clicks=users.clicks(shown, relevance.get(qid, set()), rng), swap=swap, user=f"u{n % 997}",
        ))
    return out


def simulate_ab(
    ranker_a: Callable[[str], Sequence[str]],
    ranker_b: Callable[[str], Sequence[str]],
    relevance: Mapping[str, set[str] | Mapping[str, int]],
    users: Users,
    n_users: int,
    searches_per_user: int,
    *,
    mode: str = "split",
    arms: tuple[str, str] = ("A", "B"),
    split: float = 0.5,
    seed: int = 0,
) -> list[FeedbackRecord]:
    """An A/B test: users (sticky arms by hash) search random queries of ``relevance``; one record per search."""
    from embedtune.feedback.ab import assign_arm

    rng = np.random.default_rng(seed)
    coin = random.Random(seed)
    qids = sorted(relevance)
    experiment = Experiment(mode=mode, arms=arms)  # type: ignore[arg-type]
    t = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for u in range(n_users):
        user = f"user-{seed}-{u}"
        arm = assign_arm(user, arms, split, salt=str(seed))
        for _ in range(searches_per_user):
            qid = qids[int(rng.integers(len(qids)))]
            k = len(users.propensity)
            if mode == "split":
                shown = list((ranker_b if arm == arms[1] else ranker_a)(qid))[:k]
                results = [ShownResult(id=d, position=i) for i, d in enumerate(shown, 1)]
                record_arm = arm
            else:
                merged = team_draft(ranker_a(qid), ranker_b(qid), k, coin, arms)
                shown = [d for d, _ in merged]
                results = [ShownResult(id=d, position=i, arm=team) for i, (d, team) in enumerate(merged, 1)]
                record_arm = None
            out.append(FeedbackRecord(
                timestamp=t, query=qid, index=arms[0], arm=record_arm, results=results,
                clicks=users.clicks(shown, relevance[qid], rng), user=user, experiment=experiment,
            ))
    return out
