"""Position bias: how likely a user is to *look at* the result at each rank (its examination propensity).

Clicks are biased: a result at rank 1 gets clicked more than the same result at rank 5 just because more
people read rank 1. The position-based click model (PBM) says ``P(click | q, d, rank k) = theta_k * gamma_qd``:
the user examines rank ``k`` with probability ``theta_k`` and, having examined it, clicks when the result is
relevant, with probability ``gamma_qd``. Knowing ``theta`` turns clicks into unbiased relevance labels by
inverse propensity weighting (:mod:`embedtune.feedback.ipw`).

Two estimators:

* :func:`fit_pbm_em` (the default; any log): plain EM over aggregated ``(query, doc, rank)`` click / no-click
  counts, as in Wang, Golbandi, Bendersky, Metzler & Najork, "Position bias estimation for unbiased learning
  to rank in personal search" (WSDM 2018), Sec. 4 (their regression-EM replaces the per-(q, d) relevance by a
  model of features; with repeated queries the per-pair parameters used here are enough). ``theta`` is only
  identified from pairs seen at several ranks: rankings that changed over time, A/B arms, or exploration.
* :func:`fit_swap` (logs with ``--explore-rate``): the randomised adjacent swaps of ``embedtune serve``. For the
  pair of ranks (k, k+1), swapping is random, so the documents shown at k and at k+1 are on average equally
  relevant over swapped plus unswapped searches, and the ratio of their click rates is ``theta_{k+1}/theta_k``
  (Joachims, Swaminathan & Schnabel, WSDM 2017; Wang et al. 2018, RandPair). Unbiased by construction but
  noisier, and the error compounds down the ranks.

Propensities are reported relative to rank 1 (``theta_1 = 1``): only ratios are identified, and IPW only needs
ratios.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.feedback.log import FeedbackRecord

DEFAULT_MAX_RANK = 10
_EPS = 1e-9


@dataclass
class Propensity:
    """Examination propensity per rank, relative to rank 1, and how it was estimated."""

    theta: np.ndarray  # theta[k - 1] for rank k, theta[0] == 1
    method: str
    impressions: np.ndarray  # shown results per rank the estimate used
    clicks: np.ndarray
    iterations: int = 0
    converged: bool = True
    log_likelihood: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def max_rank(self) -> int:
        return len(self.theta)

    def at(self, rank: int) -> float:
        """Propensity of ``rank`` (ranks beyond :attr:`max_rank` get the last rank's value)."""
        return float(self.theta[min(rank, self.max_rank) - 1])

    def to_json(self) -> dict:
        return {
            "method": self.method, "propensity": [round(float(t), 6) for t in self.theta],
            "impressions": self.impressions.tolist(), "clicks": self.clicks.tolist(),
            "iterations": self.iterations, "converged": self.converged,
            "log_likelihood": self.log_likelihood, "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict) -> Propensity:
        return cls(np.array(data["propensity"], float), data["method"], np.array(data["impressions"]),
                   np.array(data["clicks"]), data.get("iterations", 0), data.get("converged", True),
                   data.get("log_likelihood"), list(data.get("notes", [])))


def clicked_ids(record: FeedbackRecord, min_dwell_s: float | None = None) -> set[str]:
    """Ids clicked in ``record``; with ``min_dwell_s``, clicks known to be shorter are ignored (bounces)."""
    return {c.id for c in record.clicks
            if min_dwell_s is None or c.dwell_s is None or c.dwell_s >= min_dwell_s}


def query_key(text: str) -> str:
    """Queries that differ only in case and spacing are the same query."""
    return " ".join(text.lower().split())


@dataclass
class Cells:
    """Click/impression counts per (query-document pair, rank): the sufficient statistics of the PBM."""

    pair: np.ndarray  # pair index of each cell
    rank: np.ndarray  # 0-based rank of each cell
    clicks: np.ndarray
    shown: np.ndarray
    n_pairs: int
    pairs: list[tuple[str, str]]


def cells_of(records: Sequence[FeedbackRecord], max_rank: int, min_dwell_s: float | None = None) -> Cells:
    """Aggregate records into PBM cells over ranks 1..``max_rank``."""
    counts: dict[tuple[int, int], list[int]] = {}
    pair_index: dict[tuple[str, str], int] = {}
    for record in records:
        clicked = clicked_ids(record, min_dwell_s)
        q = query_key(record.query)
        for r in record.results:
            if r.position > max_rank:
                continue
            i = pair_index.setdefault((q, r.id), len(pair_index))
            cell = counts.setdefault((i, r.position - 1), [0, 0])
            cell[0] += r.id in clicked
            cell[1] += 1
    if not counts:
        raise EmbedtuneError("no shown results in the feedback: cannot estimate position bias")
    keys = np.array(list(counts), dtype=np.int64)
    values = np.array(list(counts.values()), dtype=np.float64)
    return Cells(keys[:, 0], keys[:, 1], values[:, 0], values[:, 1], len(pair_index), list(pair_index))


def fit_pbm_em(
    records: Sequence[FeedbackRecord],
    max_rank: int = DEFAULT_MAX_RANK,
    *,
    iterations: int = 20_000,
    tol: float = 1e-7,
    min_dwell_s: float | None = None,
) -> Propensity:
    """Fit the position-based click model by EM (Wang et al., WSDM 2018); returns ``theta`` relative to rank 1.

    E-step, for the non-clicks of a cell: ``P(E=1, R=0 | C=0) = theta(1-gamma) / (1-theta*gamma)`` and
    ``P(E=0, R=1 | C=0) = (1-theta)gamma / (1-theta*gamma)``; clicks are examined and relevant. M-step:
    ``theta_k`` is the expected share of examined impressions at rank k, ``gamma_qd`` the expected share of
    relevant impressions of the pair. Maximises the log-likelihood of the observed clicks; vectorised over cells.
    EM creeps along the flat ridge that weakly identified data leaves, hence the many cheap iterations (about a
    second for 20,000 searches).
    """
    cells = cells_of(records, max_rank, min_dwell_s)
    k = int(cells.rank.max()) + 1
    shown_per_rank = np.bincount(cells.rank, cells.shown, minlength=k)
    clicks_per_rank = np.bincount(cells.rank, cells.clicks, minlength=k)
    theta = np.full(k, 0.5)
    gamma = np.full(cells.n_pairs, 0.5)
    skips = cells.shown - cells.clicks
    converged, it = False, 0
    for it in range(1, iterations + 1):
        t, g = theta[cells.rank], gamma[cells.pair]
        denom = np.maximum(1.0 - t * g, _EPS)
        examined = cells.clicks + skips * t * (1.0 - g) / denom
        relevant = cells.clicks + skips * (1.0 - t) * g / denom
        new_theta = np.bincount(cells.rank, examined, minlength=k) / np.maximum(shown_per_rank, _EPS)
        new_gamma = np.bincount(cells.pair, relevant, minlength=cells.n_pairs) / np.maximum(
            np.bincount(cells.pair, cells.shown, minlength=cells.n_pairs), _EPS)
        new_theta = np.clip(new_theta, _EPS, 1.0)
        new_gamma = np.clip(new_gamma, 0.0, 1.0)
        delta = max(np.abs(new_theta - theta).max(), np.abs(new_gamma - gamma).max())
        theta, gamma = new_theta, new_gamma
        if delta < tol:
            converged = True
            break
    p = np.clip(theta[cells.rank] * gamma[cells.pair], _EPS, 1 - _EPS)
    ll = float(np.sum(cells.clicks * np.log(p) + skips * np.log(1 - p)))
    notes = []
    ranks_per_pair = np.bincount(cells.pair, minlength=cells.n_pairs)
    if np.mean(ranks_per_pair > 1) < 0.05:
        notes.append("few (query, document) pairs were shown at more than one rank, so the curve is weakly "
                     "identified; serve with --explore-rate to randomise ranks")
    unseen = np.flatnonzero(shown_per_rank == 0)
    if len(unseen):
        notes.append(f"no impressions at ranks {(unseen + 1).tolist()}")
    return Propensity(theta / max(theta[0], _EPS), "em", shown_per_rank.astype(int), clicks_per_rank.astype(int),
                      it, converged, ll, notes)


def fit_swap(
    records: Sequence[FeedbackRecord], max_rank: int = DEFAULT_MAX_RANK, *, min_dwell_s: float | None = None
) -> Propensity:
    """Propensities from the server's randomised adjacent swaps (records with ``swap``); see the module docstring.

    For each pair of ranks (k, k+1): ``theta_{k+1}/theta_k = (ctr_swapped(k+1) + ctr_unswapped(k+1)) /
    (ctr_swapped(k) + ctr_unswapped(k))``, where unswapped searches are those whose swap (if any) touched
    neither rank; the curve is the running product. A pair of ranks without swaps or clicks keeps the ratio 1
    and is noted.
    """
    swapped = [r for r in records if r.swap is not None]
    if not swapped:
        raise EmbedtuneError("the feedback has no exploration swaps; serve with explore_rate > 0, or use method=\"em\"")
    k_max = min(max_rank, max(max((p.position for p in r.results), default=0) for r in records))
    if k_max < 2:
        raise EmbedtuneError("the feedback shows fewer than two results per search: no position bias to estimate")
    # ctr[kind][rank]: clicks and impressions at 0-based rank, kind 0 = swapped at (rank pair), 1 = untouched.
    clicks = np.zeros((k_max - 1, 2, 2))
    shown = np.zeros((k_max - 1, 2, 2))
    for record in records:
        clicked = clicked_ids(record, min_dwell_s)
        at = {r.position: r.id for r in record.results}
        for k in range(1, k_max):
            if k not in at or k + 1 not in at:
                continue
            if record.swap == (k, k + 1):
                kind = 0
            elif record.swap is not None and set(record.swap) & {k, k + 1}:
                continue
            else:
                kind = 1
            for j, rank in enumerate((k, k + 1)):
                shown[k - 1, kind, j] += 1
                clicks[k - 1, kind, j] += at[rank] in clicked
    ctr = clicks / np.maximum(shown, 1)
    theta = np.ones(k_max)
    notes = []
    for k in range(1, k_max):
        top = ctr[k - 1, 0, 0] + ctr[k - 1, 1, 0]
        below = ctr[k - 1, 0, 1] + ctr[k - 1, 1, 1]
        if shown[k - 1, 0].min() == 0 or top <= 0:
            notes.append(f"ranks {k}-{k + 1}: no swaps or clicks, ratio taken as 1")
            ratio = 1.0
        else:
            ratio = below / top
        theta[k] = theta[k - 1] * ratio
    per_rank_shown = np.zeros(k_max, int)
    per_rank_clicks = np.zeros(k_max, int)
    for record in swapped:
        clicked = clicked_ids(record, min_dwell_s)
        for r in record.results:
            if r.position <= k_max:
                per_rank_shown[r.position - 1] += 1
                per_rank_clicks[r.position - 1] += r.id in clicked
    return Propensity(theta, "swap", per_rank_shown, per_rank_clicks, notes=notes)


def estimate_propensity(
    records: Sequence[FeedbackRecord],
    method: Literal["em", "swap"] = "em",
    max_rank: int = DEFAULT_MAX_RANK,
    min_dwell_s: float | None = None,
) -> Propensity:
    """The propensity curve by ``method`` (see :func:`fit_pbm_em` and :func:`fit_swap`)."""
    if method == "em":
        return fit_pbm_em(records, max_rank, min_dwell_s=min_dwell_s)
    if method == "swap":
        return fit_swap(records, max_rank, min_dwell_s=min_dwell_s)
    raise EmbedtuneError(f"unknown propensity method {method!r}: use em or swap")
