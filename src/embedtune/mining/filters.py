"""Positive-aware false-negative filters (NV-Retriever's names) and the rank window.

What they optimise: keeping hard negatives while dropping the candidates most likely to be unlabelled
positives. A fixed score ceiling (``topk-abs``) behaves differently with every model, because score scales
differ (the complaint "the threshold skips 84% of candidates with one model and nothing with another");
anchoring the ceiling to the positive's own score (``topk-marginpos``: score < pos - margin,
``topk-percpos``: score < pct x pos) adapts it to the model and to the query. Percpos is scale-free, so it
works the same on BM25 scores as on cosine similarities.

Reference score with several positives: by default (``positive_reference="min"``) the filters compare with
the query's *weakest* known positive, for every row of the query. A candidate the model scores close to *any*
passage known to be relevant is suspect, whichever positive the row trains on, and one bar per query means
the rows of a query never disagree about what is a negative. ``"own"`` compares with the row's own positive:
more negatives when positives' scores differ a lot, at a higher false-negative risk (the calibration measures
both). sentence-transformers' miner also uses the minimum.

Thresholds are sign-safe: ``pct x pos`` is computed as ``pos - |pos| x (1 - pct)``, so a negative positive
score does not turn the ceiling into a floor. Each removed candidate is counted once, under the first rule
that removes it, in the order rank window, topk-abs, topk-marginpos, topk-percpos.

Reference: Moreira et al., "NV-Retriever: Improving text embedding models with effective hard-negative
mining" (2024).
"""

from __future__ import annotations

import numpy as np

from embedtune.mining.config import MiningConfig, PositiveReference

KEPT, RANK_WINDOW, TOPK_ABS, TOPK_MARGINPOS, TOPK_PERCPOS = 0, 1, 2, 3, 4
PAD = 255  # no candidate at this rank (the corpus ran out)
REASONS = {
    RANK_WINDOW: "rank_window", TOPK_ABS: "topk-abs", TOPK_MARGINPOS: "topk-marginpos", TOPK_PERCPOS: "topk-percpos"
}


def percpos_threshold(reference: np.ndarray | float, pct: np.ndarray | float) -> np.ndarray:
    """``pct`` of the reference score, sign-safe: ``ref - |ref| x (1 - pct)``."""
    ref = np.asarray(reference, dtype=np.float64)
    return ref - np.abs(ref) * (1.0 - np.asarray(pct, dtype=np.float64))


def reference_scores(positive_scores: np.ndarray, rule: PositiveReference) -> np.ndarray:
    """Per row of a query (one per positive, same order), the positive score its filters compare with."""
    if rule == "own":
        return np.asarray(positive_scores, dtype=np.float64)
    return np.full(len(positive_scores), float(np.min(positive_scores)))


def reason_codes(
    scores: np.ndarray,
    ranks: np.ndarray,
    references: np.ndarray,
    config: MiningConfig,
    percpos: np.ndarray | float | None = None,
    margin: np.ndarray | float | None = None,
) -> np.ndarray:
    """Why each candidate is removed (``KEPT`` = survives), for broadcastable arrays of scores, ranks, references.

    ``percpos`` and ``margin`` override the config's values (arrays let the calibration try a whole grid at
    once); ``-inf`` scores are padding and come back as ``PAD``.
    """
    percpos = config.percpos if percpos is None else percpos
    margin = config.margin if margin is None else margin
    scores, ranks, references = np.broadcast_arrays(scores, ranks, references)
    shape = np.broadcast_shapes(scores.shape, np.shape(percpos) if percpos is not None else (),
                                np.shape(margin) if margin is not None else ())
    codes = np.zeros(shape, dtype=np.uint8)

    def mark(mask: np.ndarray, code: int) -> None:
        mask = np.broadcast_to(mask, shape)
        codes[(codes == KEPT) & mask] = code

    mark(~np.isfinite(scores), PAD)
    mark(ranks < config.range_min, RANK_WINDOW)
    if config.max_score is not None:
        mark(scores >= config.max_score, TOPK_ABS)
    if margin is not None:
        mark(scores >= references - np.asarray(margin), TOPK_MARGINPOS)
    if percpos is not None:
        mark(scores >= percpos_threshold(references, percpos), TOPK_PERCPOS)
    return codes


def removal_reasons(scores: np.ndarray, references: np.ndarray, config: MiningConfig) -> np.ndarray:
    """(rows, N) reason codes for one query's ranked candidate ``scores`` (N,) and its rows' ``references``."""
    ranks = np.arange(len(scores))
    return reason_codes(scores[None, :], ranks[None, :], np.asarray(references)[:, None], config)


def count_reasons(codes: np.ndarray) -> dict[str, int]:
    """``{filter name: candidates it removed}`` over an array of reason codes."""
    counts = np.bincount(codes.ravel(), minlength=PAD + 1)
    return {name: int(counts[code]) for code, name in REASONS.items()}
