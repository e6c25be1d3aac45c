"""Keep the model fresh with real users' feedback: the click log, position bias, IPW pairs, retraining, drift, A/B.

Light to import (no torch): heavy work is imported inside the functions that need it.

* :mod:`~embedtune.feedback.log` — the JSONL feedback log (format, reading, writing)
* :mod:`~embedtune.feedback.importer` — users' own logs -> the feedback log
* :mod:`~embedtune.feedback.propensity` — examination propensity per rank (PBM EM, randomised swaps)
* :mod:`~embedtune.feedback.ipw` — clicks -> IPW-weighted positives, skipped-above negatives
* :mod:`~embedtune.feedback.retrain` — the next model version, gated (:mod:`~embedtune.feedback.gate`)
* :mod:`~embedtune.feedback.drift` — when a retrain is due
* :mod:`~embedtune.feedback.ab` / :mod:`~embedtune.feedback.ab_report` — A/B split, interleaving, analysis
* :mod:`~embedtune.feedback.simulate` — simulated users with known relevance and position bias
"""

from embedtune.feedback.ab import assign_arm, interleaving_credit, team_draft
from embedtune.feedback.ab_report import AbReport, ab_report
from embedtune.feedback.drift import DriftConfig, DriftReport, drift_report
from embedtune.feedback.ipw import (
    ClickPair,
    click_pairs,
    filter_negatives,
    ipw_weight,
    resample_by_weight,
)
from embedtune.feedback.log import (
    Click,
    FeedbackRecord,
    ShownResult,
    iter_log,
    read_log,
    write_log,
)
from embedtune.feedback.propensity import (
    Propensity,
    estimate_propensity,
    fit_pbm_em,
    fit_swap,
)

__all__ = [
    "AbReport",
    "Click",
    "ClickPair",
    "DriftConfig",
    "DriftReport",
    "FeedbackRecord",
    "Propensity",
    "ShownResult",
    "ab_report",
    "assign_arm",
    "click_pairs",
    "drift_report",
    "estimate_propensity",
    "filter_negatives",
    "fit_pbm_em",
    "fit_swap",
    "interleaving_credit",
    "ipw_weight",
    "iter_log",
    "read_log",
    "resample_by_weight",
    "team_draft",
    "write_log",
]
