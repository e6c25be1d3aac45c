"""The report of one mining run: counts, calibration, score distributions and advice, from what it computed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from embedtune.mining.calibration import Calibration, summarize
from embedtune.mining.candidates import Candidates
from embedtune.mining.config import MiningConfig
from embedtune.mining.report import Histogram, MiningReport
from embedtune.mining.sampling import RowPlan
from embedtune.retrieval.base import Document
from embedtune.workspace.rows import TrainQuery

if TYPE_CHECKING:
    from embedtune.mining.cross_encoder_check import CrossEncoderCheck
    from embedtune.mining.negatives import MinedRow

EMPTY_ROWS_WARNING = 0.25  # share of rows left without any negative that deserves a warning

REFERENCE_TEXT = {
    "min": "Filters compare each candidate with the query's weakest known positive, the same bar for every row of "
           "the query: a passage the model scores close to any passage known to be relevant is suspect, whichever "
           "positive the row trains on.",
    "own": "Filters compare each candidate with the row's own positive: more negatives when a query's positives "
           "score very differently, at a higher false-negative risk than the query's weakest positive.",
}



def mining_report(
    queries: Sequence[TrainQuery], docs: Sequence[Document], cands: Candidates, rows: Sequence[MinedRow],
    plans: Sequence[RowPlan], counts: dict[str, Any], cal: Calibration, requested: MiningConfig,
    config: MiningConfig, check: CrossEncoderCheck | None, source: str, warnings: Sequence[str],
    cache_hit: bool | None, model_hash: str | None, seconds: dict[str, float],
) -> MiningReport:
    """The report of a run: ``requested`` is the config as given, ``config`` the one used after calibration."""
    k = config.num_negatives
    n_neg = np.array([len(r.negatives) for r in rows])
    short_queries = {r.query for r, n in zip(rows, n_neg) if n < k}
    neg_scores = np.concatenate([cands.scores[r.query, r.negatives] for r in rows] or [np.zeros(0)])
    pos_scores = np.concatenate(cands.positive_scores)
    flagged = sum(len(p.flagged) for p in plans)
    removed = dict(counts["removed"])
    if check is not None and not config.relabel:
        removed["cross_encoder"] = flagged
    notes = []
    if config.bm25:
        notes.append("BM25 mode: the filters compare BM25 scores with the positive's BM25 score; percpos is a ratio, "
                     "so 0.95 means the same as with cosines, while --margin and --max-score are in BM25 units.")
    if config.range_min:
        notes.append(f"rank window: the top {config.range_min} non-positive candidates are skipped whatever their "
                     f"score (sentence-transformers instead skips the top range_min of the candidates that pass its "
                     f"margin filter).")
    warnings = list(warnings)
    empty = int(np.count_nonzero(n_neg == 0))
    if empty > EMPTY_ROWS_WARNING * len(rows):
        seen = max(counts["seen"], 1)
        warnings.append(
            f"{empty:,} of {len(rows):,} rows got no negative: the filters removed "
            f"{1 - counts['survivors'] / seen:.0%} of the top-{config.range_max} candidates, so the usable ones rank "
            f"deeper; raise --range-max (e.g. {config.range_max * 10}), or try --positive-reference own when queries "
            f"have many positives of uneven scores"
        )
    return MiningReport(
        mode="bm25" if config.bm25 else "dense",
        model=None if config.bm25 else config.model,
        model_hash=model_hash,
        cross_encoder=config.cross_encoder if config.cross_encoder is not None else ("in-memory" if check else None),
        source=source,
        config=requested.model_dump(),
        effective={"percpos": config.percpos, "margin": config.margin, "max_score": config.max_score},
        reference=REFERENCE_TEXT[config.positive_reference],
        queries=len(queries),
        rows=len(rows),
        corpus=len(docs),
        candidates_seen=counts["seen"],
        removed=removed,
        survivors=counts["survivors"],
        ce_checked=sum(p.offered for p in plans) if check is not None else 0,
        relabelled=flagged if config.relabel else 0,
        negatives=int(n_neg.sum()),
        rows_short=int(np.count_nonzero(n_neg < k)),
        rows_without_negatives=empty,
        queries_short=len(short_queries),
        calibration=cal,
        scores={"positive": summarize(pos_scores), "candidate": summarize(cands.scores.ravel()),
                "negative": summarize(neg_scores)},
        histogram=Histogram.of({"positive": pos_scores, "candidate": cands.scores.ravel(), "negative": neg_scores}),
        cache_hit=cache_hit,
        seconds={phase: round(t, 3) for phase, t in seconds.items()},
        warnings=warnings,
        notes=notes,
    )
