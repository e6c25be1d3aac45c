"""The A/B report: per-arm click metrics with confidence intervals, a significance test, a recommendation.

Split tests (each user on one arm): per arm, CTR (share of searches with a click) and MRR of clicks (1 / rank
of the first click, 0 without one). Searches of one user are correlated, so the unit of analysis is the user
(else the session, else the search): each unit's average is one observation, arm means are means of unit
averages, intervals are t intervals and the test is Welch's t-test on those (scipy). The decision uses one
primary metric (MRR by default), so the false-positive rate on identical arms stays at ``alpha``.

Interleaving tests: each search is a win for B when B's results got more clicks, a loss when A's did, else a
tie; the two-sided sign test (binomial, ties dropped) asks whether wins and losses differ, and the credit
``(wins - losses) / searches`` says by how much (Radlinski et al., CIKM 2008; Chapelle et al., "Large-scale
validation and analysis of interleaved search evaluation", TOIS 2012).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.feedback.ab import interleaving_credit
from embedtune.feedback.log import FeedbackRecord
from embedtune.feedback.propensity import clicked_ids

Metric = Literal["mrr", "ctr"]


@dataclass
class ArmStats:
    """One arm of a split test: searches, units, and each metric's mean with its confidence interval."""

    arm: str
    searches: int
    units: int
    ctr: float
    ctr_ci: tuple[float, float]
    mrr: float
    mrr_ci: tuple[float, float]


@dataclass
class Interleaving:
    """Team-draft interleaving outcome, from arm B's side."""

    searches: int
    wins: int
    losses: int
    ties: int
    credit: float
    p_value: float


@dataclass
class AbReport:
    """What ``embedtune ab report`` prints (and writes with ``--json``)."""

    mode: str
    arms: tuple[str, str]
    alpha: float
    primary: str
    arm_stats: list[ArmStats] = field(default_factory=list)
    delta: dict[str, float] = field(default_factory=dict)
    p_values: dict[str, float] = field(default_factory=dict)
    interleaving: Interleaving | None = None
    significant: bool = False
    recommendation: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def _t_interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    from scipy import stats

    if len(values) < 2:
        m = float(values.mean()) if len(values) else 0.0
        return (m, m)
    half = stats.t.ppf(1 - alpha / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return (float(values.mean() - half), float(values.mean() + half))


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    if len(a) < 2 or len(b) < 2:
        return 1.0
    if a.std() < 1e-12 and b.std() < 1e-12:
        return 1.0 if abs(a.mean() - b.mean()) < 1e-12 else 0.0
    return float(stats.ttest_ind(b, a, equal_var=False).pvalue)


def first_click_rr(record: FeedbackRecord, min_dwell_s: float | None = None) -> float:
    """1 / position of the first click, 0 without a click."""
    clicked = clicked_ids(record, min_dwell_s)
    positions = [r.position for r in record.results if r.id in clicked]
    return 1.0 / min(positions) if positions else 0.0


def _unit_means(records: Sequence[FeedbackRecord], min_dwell_s: float | None) -> tuple[np.ndarray, np.ndarray]:
    per_unit: dict[str, list[tuple[float, float]]] = {}
    for i, r in enumerate(records):
        unit = r.unit or r.search_id or f"#{i}"
        rr = first_click_rr(r, min_dwell_s)
        per_unit.setdefault(unit, []).append((float(rr > 0), rr))
    values = np.array([np.mean(v, axis=0) for v in per_unit.values()]).reshape(-1, 2)
    return values[:, 0], values[:, 1]


def _arms_of(records: Sequence[FeedbackRecord], arms: tuple[str, str] | None) -> tuple[str, tuple[str, str]]:
    experiments = {r.experiment.mode: r.experiment.arms for r in records if r.experiment is not None}
    interleaved = any(res.arm for r in records for res in r.results)
    mode = "interleave" if "interleave" in experiments or interleaved else "split"
    if arms is not None:
        return mode, arms
    if mode in experiments:
        return mode, tuple(experiments[mode])  # type: ignore[return-value]
    names = sorted({r.arm for r in records if r.arm} if mode == "split" else
                   {res.arm for r in records for res in r.results if res.arm})
    if len(names) != 2:
        raise EmbedtuneError(f"the feedback names {len(names)} arms ({', '.join(names) or 'none'}); pass arms=(A, B)")
    return mode, (names[0], names[1])


def ab_report(
    records: Sequence[FeedbackRecord],
    arms: tuple[str, str] | None = None,
    *,
    alpha: float = 0.05,
    primary: Metric = "mrr",
    min_dwell_s: float | None = None,
) -> AbReport:
    """Analyse an A/B test's feedback (see the module docstring); ``arms`` = (control, candidate)."""
    from scipy import stats

    if not records:
        raise EmbedtuneError("no feedback records to analyse")
    mode, arms = _arms_of(records, arms)
    report = AbReport(mode, arms, alpha, primary)
    if mode == "interleave":
        credits = [interleaving_credit([res.arm for res in r.results],
                                       [res.id in clicked_ids(r, min_dwell_s) for res in r.results], arms)
                   for r in records if any(res.arm for res in r.results)]
        wins, losses = credits.count(1), credits.count(-1)
        p = float(stats.binomtest(wins, wins + losses, 0.5).pvalue) if wins + losses else 1.0
        report.interleaving = Interleaving(len(credits), wins, losses, credits.count(0),
                                           (wins - losses) / max(len(credits), 1), p)
        report.p_values = {"interleaving": p}
        report.significant = p < alpha
        better = arms[1] if wins > losses else arms[0]
        report.recommendation = (
            f"{better} wins: its results get more clicks when both are shown together (p = {p:.3g})"
            if report.significant else
            f"no significant preference between {arms[0]} and {arms[1]} (p = {p:.3g}); keep {arms[0]} "
            f"or collect more searches"
        )
        return report
    values = {}
    for arm in arms:
        rows = [r for r in records if r.arm == arm]
        if not rows:
            raise EmbedtuneError(f"no feedback records for arm {arm!r}")
        ctr, mrr = _unit_means(rows, min_dwell_s)
        values[arm] = {"ctr": ctr, "mrr": mrr}
        report.arm_stats.append(ArmStats(arm, len(rows), len(ctr), float(ctr.mean()), _t_interval(ctr, alpha),
                                         float(mrr.mean()), _t_interval(mrr, alpha)))
    a, b = arms
    for metric in ("ctr", "mrr"):
        report.delta[metric] = float(values[b][metric].mean() - values[a][metric].mean())
        report.p_values[metric] = _welch(values[a][metric], values[b][metric])
    p, d = report.p_values[primary], report.delta[primary]
    report.significant = p < alpha
    if not report.significant:
        report.recommendation = (f"no significant difference in {primary} (delta {d:+.4f}, p = {p:.3g}): keep {a}, "
                                 f"or run longer if a difference of this size matters")
    elif d > 0:
        report.recommendation = f"promote {b}: {primary} {d:+.4f} over {a} (p = {p:.3g})"
    else:
        report.recommendation = f"keep {a}: {b} is worse on {primary} ({d:+.4f}, p = {p:.3g})"
    return report
