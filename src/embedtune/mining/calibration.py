"""Calibration: how this model scores positives against candidates on this data, and how many false negatives a
threshold would let through, before a single negative is chosen.

What it optimises: a filter threshold that suits the model and the data instead of a constant. Score scales
differ between models (and between BM25 and cosines), so a threshold that removes 84% of the candidates with
one model removes nothing with another; the quantiles below show where this model's positives and candidates
lie, and the curve shows what each threshold removes.

The false-negative rate a threshold would cause is estimated, without any new labels, from queries with
several known positives: hide one positive at a time (leave-one-out) and see whether it would have been
*retrieved* (ranked within the top N among non-positives) and then *kept as a negative* by every filter,
with the reference score taken from the remaining positives. The estimate is the fraction of retrieved
hidden positives that get through: the leak rate of the filters for a relevant passage that nobody labelled.
At most 20 positives per query are hidden, so a few broad queries with hundreds of positives do not decide
the estimate alone. When fewer than 30 hidden positives are retrieved (typical of one-positive synthetic
queries), a cross-encoder, if given, labels the candidates of a sample of queries instead; without either,
the configured threshold stays and the report says why.

``auto_threshold`` then picks the *laxest* value (highest percpos, or lowest margin) whose estimated rate is at
most the target, keeping as many hard negatives as the false-negative budget allows.

Reference: the rate is the quantity NV-Retriever's ablations trade against hard-negative difficulty
(Moreira et al., 2024); leave-one-out on multi-positive queries is our estimator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from embedtune.mining.candidates import Candidates
from embedtune.mining.config import MiningConfig
from embedtune.mining.filters import KEPT, percpos_threshold, reason_codes, reference_scores

GRIDS: dict[str, np.ndarray] = {
    "percpos": np.round(np.arange(0.50, 1.0001, 0.01), 2),
    "margin": np.round(np.arange(0.0, 0.3001, 0.01), 2),
}
HELD_OUT_PER_QUERY = 20
MIN_SUPPORT = 30
QUANTILES = {"min": 0.0, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "max": 1.0}

TunedFilter = Literal["percpos", "margin"]
EstimateSource = Literal["held-out positives", "cross-encoder"]


def summarize(values: np.ndarray | Sequence[float]) -> dict[str, int | float]:
    """Count, mean and quantiles (min, p05, p25, p50, p75, p95, max) of finite values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"count": 0}
    qs = np.quantile(v, list(QUANTILES.values()))
    return {"count": int(len(v)), "mean": round(float(v.mean()), 4)} | {
        k: round(float(q), 4) for k, q in zip(QUANTILES, qs)
    }


class Calibration(BaseModel):
    """Score distributions, the threshold curve, the false-negative estimate and the threshold choice."""

    positive: dict[str, int | float] = Field(description="scores of the (query, positive) pairs")
    candidate: dict[str, int | float] = Field(description="scores of every retrieved non-positive candidate")
    hardest_ratio: dict[str, int | float] = Field(description="top candidate's score / reference positive's, per row")
    queries_with_several_positives: int = 0
    tuned: TunedFilter | None = Field(None, description="the filter the curve varies (the one auto_threshold tunes)")
    grid: list[float] = Field(default_factory=list)
    removed_fraction: list[float] = Field(default_factory=list, description="candidates removed at each grid value")
    false_negative_rate: list[float | None] = Field(default_factory=list, description="estimated leak per grid value")
    estimate_source: EstimateSource | None = None
    support: float = Field(0, description="hidden positives (or CE-relevant candidates) the estimate rests on")
    configured: float | None = None
    chosen: float | None = None
    rate_at_chosen: float | None = None
    explanation: str = ""


def curve_filter(config: MiningConfig) -> TunedFilter | None:
    """The filter whose threshold the curve varies: percpos when on, else the margin, else none."""
    if config.percpos is not None:
        return "percpos"
    return "margin" if config.margin is not None else None


def _rows(positive_scores: Sequence[np.ndarray], rows: Sequence[Sequence[int]], config: MiningConfig):
    """Per query: the reference score of each of its mined rows."""
    return [reference_scores(s, config.positive_reference)[list(r)] for s, r in zip(positive_scores, rows)]


def removed_curve(
    cands: Candidates, refs: Sequence[np.ndarray], config: MiningConfig, tuned: TunedFilter
) -> list[float]:
    """Fraction of retrieved candidates the filters remove at each value of the ``tuned`` grid.

    Every filter removes a prefix of a query's ranked list (the rank window the top ``range_min``, each score
    filter everything at or above its ceiling), so their union is the longest prefix: no per-candidate pass.
    """
    grid = GRIDS[tuned]
    removed = np.zeros(len(grid))
    total = 0
    for scores, r in zip(cands.scores, refs):
        finite = scores[np.isfinite(scores)]
        if not len(finite) or not len(r):
            continue
        ceilings = np.full((len(grid), len(r)), np.inf)
        if config.max_score is not None:
            ceilings = np.minimum(ceilings, config.max_score)
        margin = grid[:, None] if tuned == "margin" else config.margin
        pct = grid[:, None] if tuned == "percpos" else config.percpos
        if margin is not None:
            ceilings = np.minimum(ceilings, r[None, :] - margin)
        if pct is not None:
            ceilings = np.minimum(ceilings, percpos_threshold(r[None, :], pct))
        above = np.searchsorted(-finite, -ceilings.ravel(), side="right").reshape(ceilings.shape)
        removed += np.maximum(above, min(config.range_min, len(finite))).sum(axis=1)
        total += len(finite) * len(r)
    return [round(float(x), 4) for x in removed / max(total, 1)]


def held_out_leak(
    cands: Candidates, positive_scores: Sequence[np.ndarray], config: MiningConfig, tuned: TunedFilter, seed: int = 0
) -> tuple[np.ndarray, float]:
    """Leave-one-out leak per grid value, and its support (hidden positives that would have been retrieved)."""
    grid = GRIDS[tuned]
    rng = np.random.default_rng(seed)
    passed, support = np.zeros(len(grid)), 0.0
    floor = 0.0 if config.bm25 else -np.inf  # BM25 never retrieves a passage sharing no term with the query
    override = {tuned: grid[:, None, None]}
    for scores, s_pos in zip(cands.scores, positive_scores):
        m = len(s_pos)
        if m < 2:
            continue
        hidden = np.arange(m) if m <= HELD_OUT_PER_QUERY else rng.choice(m, HELD_OUT_PER_QUERY, replace=False)
        finite = scores[np.isfinite(scores)]
        ranks = np.searchsorted(-finite, -s_pos[hidden], side="left")
        retrieved = (ranks < config.range_max) & (s_pos[hidden] > floor)
        hidden, ranks = hidden[retrieved], ranks[retrieved]
        if not len(hidden):
            continue
        others = np.ones((len(hidden), m), dtype=bool)
        others[np.arange(len(hidden)), hidden] = False
        if config.positive_reference == "min":
            # The reference without the hidden positive: the minimum over the others.
            refs = np.where(others, s_pos[None, :], np.inf).min(axis=1)[:, None]
            others = np.ones((len(hidden), 1), dtype=bool)
        else:
            refs = s_pos[None, :]
        codes = reason_codes(s_pos[hidden][None, :, None], ranks[None, :, None], refs[None], config, **override)
        kept = (codes == KEPT) & others[None]
        passed += (kept.sum(axis=2) / others.sum(axis=1)[None, :]).sum(axis=1)
        support += len(hidden)
    return passed / max(support, 1.0), support


def cross_encoder_leak(
    cands: Candidates,
    refs: dict[int, np.ndarray],
    relevant: dict[int, np.ndarray],
    config: MiningConfig,
    tuned: TunedFilter,
) -> tuple[np.ndarray, float]:
    """Leak per grid value over the candidates a cross-encoder judged relevant, for the sampled queries.

    ``refs[q]`` holds query ``q``'s rows' reference scores, ``relevant[q]`` a boolean per candidate rank.
    """
    grid = GRIDS[tuned]
    passed, support = np.zeros(len(grid)), 0.0
    for q, rel in relevant.items():
        ranks = np.flatnonzero(rel)
        if not len(ranks):
            continue
        scores = cands.scores[q][ranks]
        codes = reason_codes(scores[None, None, :], ranks[None, None, :], refs[q][None, :, None], config,
                             **{tuned: grid[:, None, None]})
        passed += (codes == KEPT).mean(axis=1).sum(axis=1)
        support += len(ranks)
    return passed / max(support, 1.0), support


def choose_threshold(
    tuned: TunedFilter, rates: np.ndarray, target: float
) -> tuple[float, float, bool]:
    """The laxest grid value whose rate is at most ``target`` (rates grow with laxness): (value, rate, met)."""
    grid = GRIDS[tuned]
    order = np.argsort(grid) if tuned == "percpos" else np.argsort(-grid)  # strict to lax
    ok = [i for i in order if rates[i] <= target]
    i = ok[-1] if ok else order[0]
    return float(grid[i]), float(rates[i]), bool(ok)


def _at(grid: np.ndarray, rates: np.ndarray, value: float | None) -> float | None:
    if value is None:
        return None
    i = int(np.argmin(np.abs(grid - value)))
    return float(rates[i]) if abs(grid[i] - value) < 1e-9 else None


def calibrate(
    cands: Candidates,
    positive_scores: Sequence[np.ndarray],
    rows: Sequence[Sequence[int]],
    config: MiningConfig,
    ce_estimator: Callable[[TunedFilter], tuple[np.ndarray, float]] | None = None,
) -> Calibration:
    """Distributions, curve, false-negative estimate and (with ``auto_threshold``) the chosen value.

    Args:
        cands: every query's candidates.
        positive_scores: per query, its positives' scores.
        rows: per query, which of its positives get a training row.
        config: the mining settings.
        ce_estimator: returns (rates, support) as :func:`cross_encoder_leak` does; called (it costs cross-encoder
            time) only when held-out positives are too few.
    """
    refs = _rows(positive_scores, rows, config)
    top = cands.scores[:, 0] if cands.scores.shape[1] else np.zeros(len(cands))
    # Only a positive reference gives a meaningful ratio (a BM25 positive sharing no term scores 0).
    ratios = np.concatenate([top[q] / r[r > 0] for q, r in enumerate(refs)] or [np.zeros(0)])
    cal = Calibration(
        positive=summarize(np.concatenate([s[list(r)] for s, r in zip(positive_scores, rows)]) if rows else []),
        candidate=summarize(cands.scores.ravel()),
        hardest_ratio=summarize(ratios),
        queries_with_several_positives=sum(len(s) > 1 for s in positive_scores),
    )
    tuned = curve_filter(config)
    if tuned is None:
        cal.explanation = "no positive-aware filter is on: nothing to calibrate"
        return cal
    grid = GRIDS[tuned]
    configured = config.percpos if tuned == "percpos" else config.margin
    cal.tuned, cal.grid, cal.configured = tuned, [float(g) for g in grid], configured
    cal.removed_fraction = removed_curve(cands, refs, config, tuned)
    rates, support = held_out_leak(cands, positive_scores, config, tuned, config.seed)
    source: EstimateSource = "held-out positives"
    why = (f"only {support:.0f} hidden positives were retrieved ({MIN_SUPPORT} needed: it takes queries with several "
           f"known positives")
    if support < MIN_SUPPORT and ce_estimator is not None:
        rates, support = ce_estimator(tuned)
        source = "cross-encoder"
        why += f"), and the cross-encoder found only {support:.0f} relevant candidates in its sample"
    else:
        why += ", or a --cross-encoder with --auto-threshold)"
    if support < MIN_SUPPORT:
        cal.chosen = configured
        cal.explanation = f"{tuned} {configured:g} kept: the false-negative rate cannot be estimated: {why}"
        return cal
    cal.estimate_source, cal.support = source, round(support, 2)
    cal.false_negative_rate = [round(float(r), 4) for r in rates]
    at_configured = _at(grid, rates, configured)
    target = config.max_false_negative_rate
    what = f"{support:.0f} {'hidden positives' if source == 'held-out positives' else 'CE-relevant candidates'}"
    if not config.auto_threshold:
        cal.chosen, cal.rate_at_chosen = configured, at_configured
        value, _, met = choose_threshold(tuned, rates, target)
        hint = f"; --auto-threshold would pick {value:g} for a {target:.0%} target" if met else ""
        cal.explanation = (
            f"{tuned} {configured:g} as configured: estimated false-negative rate "
            f"{'n/a' if at_configured is None else f'{at_configured:.1%}'} (from {what}){hint}"
        )
        return cal
    value, rate, met = choose_threshold(tuned, rates, target)
    cal.chosen, cal.rate_at_chosen = value, rate
    laxest = "highest" if tuned == "percpos" else "lowest"
    if met:
        cal.explanation = (
            f"{tuned} {value:g} chosen: the {laxest} value whose estimated false-negative rate ({rate:.1%}, from "
            f"{what}) stays within the {target:.0%} target"
            + (f"; the configured {configured:g} would let {at_configured:.1%} through" if at_configured is not None
               and abs(value - configured) > 1e-9 else "")
        )
    else:
        cal.explanation = (
            f"{tuned} {value:g} chosen, the strictest value tried, yet its estimated false-negative rate ({rate:.1%}, "
            f"from {what}) exceeds the {target:.0%} target: this model ranks many relevant passages like negatives; "
            f"consider a --cross-encoder check"
        )
    return cal
