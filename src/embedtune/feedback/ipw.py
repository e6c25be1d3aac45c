"""Clicks -> weighted training positives (inverse propensity weighting) and skipped-above candidate negatives.

A click at rank k is evidence of relevance seen through examination probability ``theta_k``; weighting it by
``1 / theta_k`` makes the sum of weighted clicks an unbiased estimate of what the clicks would have been had
every rank been examined (Joachims, Swaminathan & Schnabel, "Unbiased learning-to-rank with biased feedback",
WSDM 2017). Rare deep clicks get large weights and high variance, so weights are clipped at ``clip``
(Strehl et al., "Learning from logged implicit exploration data", NeurIPS 2010): a little bias for much less
variance. ``naive`` weighting (every click 1) is the biased baseline the benchmark compares against.

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
from embedtune.feedback.propensity import Propensity, clicked_ids, query_key
from embedtune.mining.config import MiningConfig
from embedtune.mining.filters import KEPT, reason_codes

Weighting = Literal["ipw", "naive"]


@dataclass
class ClickPair:
    """A (query, clicked document) pair: summed click weights, clicks, and documents skipped above it."""

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


def click_pairs(
    records: Sequence[FeedbackRecord],
    propensity: Propensity | None,
    *,
    weighting: Weighting = "ipw",
    clip: float = 10.0,
    min_dwell_s: float | None = None,
) -> list[ClickPair]:
    """One :class:`ClickPair` per (query, clicked doc) over all ``records``, with summed weights.

    Queries are matched case- and space-insensitively; the first spelling seen is kept. ``ipw`` needs a
    ``propensity``; ``naive`` counts each click as 1.
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
            w = 1.0 if weighting == "naive" else ipw_weight(r.position, propensity, clip)  # type: ignore[arg-type]
            pair = pairs.setdefault((key, r.id), ClickPair(text, r.id))
            pair.weight += w
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
    return list(pairs.values())


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
