"""Clicks -> weighted training positives (debiased click rates above a noise floor) and skipped-above negatives.

What the ``ipw`` weighting optimises: the position-based click model (:mod:`embedtune.feedback.propensity`) says
``P(click | q, d, rank k) = theta_k * gamma_qd``. Over all impressions of a (query, doc) pair, the debiased
click-through rate ``ctr_qd = sum(clicks_i / theta_rank_i) / impressions`` is an unbiased estimate of
``gamma_qd = P(click | examined)`` (Joachims, Swaminathan & Schnabel, "Unbiased learning-to-rank with biased
feedback", WSDM 2017). Weights ``1 / theta`` are clipped at ``clip`` (Strehl et al., NeurIPS 2010): a little
bias for much less variance on rare deep clicks.

``gamma_qd`` is not relevance: users also click irrelevant results now and then, and IPW lifts exactly those
rare deep noise clicks to the clip, as heavy as a relevant click at rank 1. So the pairs are modelled as a
mixture of two kinds (:class:`NoiseFloor`, fitted by EM as in Wang et al., "Position bias estimation for
unbiased learning to rank in personal search", WSDM 2018, with ``theta`` fixed): irrelevant pairs clicked
with a noise rate ``eps`` once examined, relevant ones with ``rho``. ``eps`` is the noise floor. A pair's
positive weight is ``P(relevant | its clicks) * impressions * max(0, ctr - eps) / (rho - eps)``: the expected
number of its impressions that were relevant, above what noise explains. A pair at or under the floor is no
positive, nor is a pair more likely noise than relevant (a few clicks at deep ranks, which noise explains).
Use it whenever clicks come from a position-biased list (any search UI); it needs pairs seen in several
searches to tell noise from relevance.

``naive`` weighting (each click counts 1) is the biased baseline the benchmark compares against.

Results shown *above* a clicked one and not clicked ("skip above", Joachims, KDD 2002) are candidate
negatives: the user probably saw and passed them. They can still be relevant (the user wanted one answer), so
:func:`filter_negatives` passes them through mining's positive-aware filter before they are trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.feedback.log import FeedbackRecord
from embedtune.feedback.propensity import (
    Cells,
    Propensity,
    cells_of,
    clicked_ids,
    query_key,
)
from embedtune.mining.config import MiningConfig
from embedtune.mining.filters import KEPT, reason_codes

Weighting = Literal["ipw", "naive"]
_EPS = 1e-6


@dataclass
class ClickPair:
    """A (query, clicked document) pair: its positive weight, clicks, and documents skipped above it."""

    query: str
    doc_id: str
    weight: float = 0.0
    clicks: int = 0
    skipped_above: dict[str, int] = field(default_factory=dict)  # doc id -> times skipped above a click on this


def ipw_weight(rank: int, propensity: Propensity, clip: float) -> float:
    """``min(1 / theta_rank, clip)``; ``clip`` >= 1 bounds the weight of deep clicks."""
    if clip < 1:
        raise EmbedtuneError(f"the IPW clip must be at least 1, got {clip}")
    return float(min(1.0 / max(propensity.at(rank), 1e-12), clip))


@dataclass
class PairEvidence:
    """Per shown (query key, doc) pair: impressions, debiased click rate, and P(relevant | clicks)."""

    pairs: list[tuple[str, str]]
    impressions: np.ndarray
    ctr: np.ndarray
    relevance: np.ndarray

    def weights(self, floor: NoiseFloor) -> np.ndarray:
        """Positive weights: expected relevant impressions above the noise floor (module docstring)."""
        excess = np.maximum(self.ctr - floor.noise, 0.0) / max(floor.relevant - floor.noise, _EPS)
        return self.relevance * self.impressions * excess

    def relevant(self, floor: NoiseFloor) -> set[tuple[str, str]]:
        """Pairs more likely relevant than noise and clicked above the floor: binary labels (the gate's)."""
        keep = (self.relevance > 0.5) & (self.ctr > floor.noise)
        return {p for p, k in zip(self.pairs, keep) if k}


@dataclass
class NoiseFloor:
    """Clicks once examined: ``noise`` on irrelevant pairs (the floor), ``relevant`` on relevant ones.

    ``prior`` is the share of shown pairs that are relevant. Fitted by :meth:`ShownCells.noise_floor`.
    """

    noise: float
    relevant: float
    prior: float
    iterations: int = 0

    def posterior(self, cells: Cells, theta: np.ndarray) -> np.ndarray:
        """P(relevant | clicks) per pair of ``cells`` (``theta``: the propensity of each cell)."""
        logit = (np.log(self.prior) - np.log1p(-self.prior) + _loglik(cells, theta, self.relevant)
                 - _loglik(cells, theta, self.noise))
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -500, 500)))

    def to_json(self) -> dict:
        return {"noise": round(self.noise, 6), "relevant": round(self.relevant, 6), "prior": round(self.prior, 6),
                "iterations": self.iterations}


def _loglik(cells: Cells, theta: np.ndarray, gamma: float) -> np.ndarray:
    """Per pair: log-likelihood of its clicks and skips when ``P(click) = theta * gamma``."""
    p = np.clip(theta * gamma, _EPS, 1 - _EPS)
    ll = cells.clicks * np.log(p) + (cells.shown - cells.clicks) * np.log1p(-p)
    return np.bincount(cells.pair, ll, minlength=cells.n_pairs)


def _gamma_step(cells: Cells, theta: np.ndarray, gamma: float, weight: np.ndarray) -> float:
    """EM update of one component's click rate: expected relevant impressions / impressions, ``weight``-ed."""
    skips = cells.shown - cells.clicks
    relevant = cells.clicks + skips * (1 - theta) * gamma / np.maximum(1 - theta * gamma, _EPS)
    return float(np.clip((weight * relevant).sum() / max((weight * cells.shown).sum(), _EPS), _EPS, 1.0))


@dataclass
class ShownCells:
    """Searches' shown (query key, doc) pairs as cells over every rank, with each cell's propensity ``theta``.

    Built once per set of searches (:meth:`of`): the noise-floor fit and the evidence scoring both read it.
    """

    cells: Cells
    theta: np.ndarray
    propensity: Propensity

    @classmethod
    def of(cls, records: Sequence[FeedbackRecord], propensity: Propensity, min_dwell_s: float | None = None
           ) -> ShownCells:
        cells = cells_of(records, 10**9, min_dwell_s)  # every rank: deeper ones take the last rank's propensity
        theta = propensity.theta[np.minimum(cells.rank, propensity.max_rank - 1)]
        return cls(cells, np.clip(theta, _EPS, 1.0), propensity)

    def noise_floor(self, *, iterations: int = 2000, tol: float = 1e-9) -> NoiseFloor:
        """The relevance-vs-noise mixture over the shown pairs, by EM with ``theta`` fixed.

        Starts from a split at the pooled click rate (pairs above it relevant), so ``relevant > noise``
        throughout.
        """
        cells, theta = self.cells, self.theta
        if cells.clicks.sum() == 0:
            raise EmbedtuneError("the feedback has no clicks: no relevance to learn from")
        examined = np.bincount(cells.pair, cells.shown * theta, minlength=cells.n_pairs)
        clicks = np.bincount(cells.pair, cells.clicks, minlength=cells.n_pairs)
        pooled = clicks.sum() / examined.sum()
        high = clicks / np.maximum(examined, _EPS) > pooled
        noise = clicks[~high].sum() / max(examined[~high].sum(), _EPS)
        relevant = clicks[high].sum() / max(examined[high].sum(), _EPS)
        floor = NoiseFloor(float(np.clip(noise, _EPS, 1)), float(np.clip(relevant, _EPS, 1)),
                           float(np.clip(high.mean(), _EPS, 1 - _EPS)))
        for it in range(1, iterations + 1):
            r = floor.posterior(cells, theta)
            new = NoiseFloor(_gamma_step(cells, theta, floor.noise, 1 - r[cells.pair]),
                             _gamma_step(cells, theta, floor.relevant, r[cells.pair]),
                             float(np.clip(r.mean(), _EPS, 1 - _EPS)), it)
            delta = max(abs(new.noise - floor.noise), abs(new.relevant - floor.relevant),
                        abs(new.prior - floor.prior))
            floor = new
            if delta < tol:
                break
        return floor

    def evidence(self, floor: NoiseFloor, *, clip: float = 10.0) -> PairEvidence:
        """Debiased click rate (clipped IPW) and P(relevant | clicks) of every shown pair."""
        cells = self.cells
        ipw = np.array([ipw_weight(k, self.propensity, clip) for k in range(1, int(cells.rank.max()) + 2)])
        impressions = np.bincount(cells.pair, cells.shown, minlength=cells.n_pairs)
        ctr = np.bincount(cells.pair, cells.clicks * ipw[cells.rank], minlength=cells.n_pairs) / impressions
        return PairEvidence(cells.pairs, impressions, ctr, floor.posterior(cells, self.theta))


def fit_noise_floor(records: Sequence[FeedbackRecord], propensity: Propensity, min_dwell_s: float | None = None,
                    *, iterations: int = 2000, tol: float = 1e-9) -> NoiseFloor:
    """The relevance-vs-noise mixture over ``records``' shown pairs (:meth:`ShownCells.noise_floor`)."""
    return ShownCells.of(records, propensity, min_dwell_s).noise_floor(iterations=iterations, tol=tol)


def pair_evidence(records: Sequence[FeedbackRecord], propensity: Propensity, floor: NoiseFloor, *,
                  clip: float = 10.0, min_dwell_s: float | None = None) -> PairEvidence:
    """Debiased click rate and P(relevant | clicks) of ``records``' shown pairs (:meth:`ShownCells.evidence`)."""
    return ShownCells.of(records, propensity, min_dwell_s).evidence(floor, clip=clip)


def click_pairs(
    records: Sequence[FeedbackRecord],
    propensity: Propensity | None,
    *,
    weighting: Weighting = "ipw",
    clip: float = 10.0,
    min_dwell_s: float | None = None,
    floor: NoiseFloor | None = None,
    shown: ShownCells | None = None,
) -> list[ClickPair]:
    """One :class:`ClickPair` per (query, clicked doc) over all ``records``.

    Queries are matched case- and space-insensitively; the first spelling seen is kept. ``naive``: the weight
    is the number of clicks. ``ipw`` needs a ``propensity`` (and fits ``floor`` when not given): the weight is
    the debiased excess over the noise floor, and only pairs the mixture calls relevant are kept. ``shown``:
    the cells of these same ``records``, when the caller has built them already (built here when not given).
    """
    if weighting == "ipw" and propensity is None:
        raise EmbedtuneError("IPW weighting needs a fitted propensity curve")
    pairs: dict[tuple[str, str], ClickPair] = {}
    spelling: dict[str, str] = {}
    for record in records:
        clicked = clicked_ids(record, min_dwell_s)
        if not clicked:
            continue
        key = query_key(record.query)
        text = spelling.setdefault(key, record.query.strip())
        order = sorted(record.results, key=lambda r: r.position)
        for i, r in enumerate(order):
            if r.id not in clicked:
                continue
            pair = pairs.setdefault((key, r.id), ClickPair(text, r.id))
            pair.weight += 1.0
            pair.clicks += 1
            for above in order[:i]:
                if above.id not in clicked:
                    pair.skipped_above[above.id] = pair.skipped_above.get(above.id, 0) + 1
    # A document clicked for the query in any search is a positive of it, never a negative.
    positives: dict[str, set[str]] = {}
    for key, doc in pairs:
        positives.setdefault(key, set()).add(doc)
    for (key, _), pair in pairs.items():
        pair.skipped_above = {d: n for d, n in pair.skipped_above.items() if d not in positives[key]}
    if weighting == "naive" or not pairs:
        return list(pairs.values())
    shown = shown or ShownCells.of(records, propensity, min_dwell_s)  # type: ignore[arg-type]
    floor = floor or shown.noise_floor()
    evidence = shown.evidence(floor, clip=clip)
    weight, relevant = dict(zip(evidence.pairs, evidence.weights(floor))), evidence.relevant(floor)
    for key, pair in pairs.items():
        pair.weight = float(weight.get(key, 0.0))
    # Noise pairs are left out, so mining may offer them as hard negatives (shown high, yet irrelevant).
    return [pair for key, pair in pairs.items() if key in relevant]


def filter_negatives(
    pairs: Sequence[ClickPair],
    score: Callable[[list[str], list[str]], np.ndarray],
    config: MiningConfig,
) -> tuple[dict[tuple[str, str], list[str]], dict[str, int]]:
    """Skipped-above candidates that survive mining's positive-aware filters, per (query, positive id).

    Args:
        pairs: click pairs with their skipped-above documents.
        score: ``score(queries, doc_ids)`` -> the current model's similarity of each (query, doc), elementwise.
        config: the mining settings (``percpos`` / ``margin`` / ``max_score``; the rank window does not apply).

    Returns the kept negatives (hardest first) and counts ``{"candidates", "kept", "removed"}``.
    """
    queries, docs, owner = [], [], []
    for i, p in enumerate(pairs):
        for d in [p.doc_id, *p.skipped_above]:
            queries.append(p.query)
            docs.append(d)
            owner.append(i)
    if not queries:
        return {}, {"candidates": 0, "kept": 0, "removed": 0}
    scores = np.asarray(score(queries, docs), dtype=np.float64)
    out: dict[tuple[str, str], list[str]] = {}
    start, kept, total = 0, 0, 0
    for i, p in enumerate(pairs):
        n = 1 + len(p.skipped_above)
        positive, cands = scores[start], scores[start + 1 : start + n]
        ids = docs[start + 1 : start + n]
        start += n
        if not ids:
            continue
        ranks = np.full(len(ids), config.range_min)  # no rank window: these were not retrieved by rank
        codes = reason_codes(cands, ranks, np.full(len(ids), positive), config)
        survivors = [(s, d) for s, d, c in zip(cands, ids, codes) if c == KEPT]
        total += len(ids)
        kept += len(survivors)
        if survivors:
            out[(p.query, p.doc_id)] = [d for _, d in sorted(survivors, reverse=True)]
    return out, {"candidates": total, "kept": kept, "removed": total - kept}


def resample_by_weight(weights: Sequence[float], n: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` rows drawn with replacement in proportion to ``weights``.

    How weights reach a trainer that ignores them: a row of weight 3 appears about three times as often as
    a row of weight 1, so the expected loss equals the weighted loss.
    """
    w = np.asarray(weights, dtype=np.float64)
    if len(w) == 0 or n <= 0:
        return np.zeros(0, dtype=np.int64)
    if (w < 0).any() or w.sum() <= 0:
        raise EmbedtuneError("sample weights must be non-negative and not all zero")
    rng = np.random.default_rng(seed)
    return rng.choice(len(w), size=n, replace=True, p=w / w.sum())
