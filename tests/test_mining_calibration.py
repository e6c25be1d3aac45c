"""Calibration on constructed score distributions: leave-one-out false-negative estimate and auto-threshold."""

from __future__ import annotations

import numpy as np
import pytest

from embedtune.mining import MiningConfig
from embedtune.mining.calibration import GRIDS, calibrate, held_out_leak
from embedtune.mining.candidates import Candidates


def _candidates(positive_scores: list[list[float]], n: int = 10, low: float = 0.1) -> Candidates:
    """Queries whose candidates all score ``low`` (far below every positive)."""
    q = len(positive_scores)
    scores = np.full((q, n), low, dtype=np.float32) - np.arange(n, dtype=np.float32) * 1e-3
    return Candidates(
        doc_idx=np.tile(np.arange(n, dtype=np.int32), (q, 1)),
        scores=scores,
        positive_scores=[np.asarray(s, dtype=np.float32) for s in positive_scores],
        positives_ranked=np.zeros(q, dtype=np.int64),
    )


# 40 queries with two positives: 1.0 and r = 0.605, 0.615, ..., 0.995. Hiding r leaves reference 1.0, and r
# passes percpos g exactly when r < g; hiding 1.0 leaves reference r < 1.0, and 1.0 never passes. So the
# estimated rate at g is #(r < g) / 80, and a 5% target allows 4 leaks: g = 0.64 (r in 0.605..0.635).
RATIOS = [round(0.605 + 0.01 * i, 3) for i in range(40)]


def test_leave_one_out_rate_matches_the_construction():
    cands = _candidates([[1.0, r] for r in RATIOS])
    rates, support = held_out_leak(cands, cands.positive_scores, MiningConfig(), "percpos")
    assert support == 80
    for g, rate in zip(GRIDS["percpos"], rates):
        assert rate == pytest.approx(sum(r < g for r in RATIOS) / 80)


def test_auto_threshold_picks_the_laxest_value_within_the_target():
    cands = _candidates([[1.0, r] for r in RATIOS])
    config = MiningConfig(auto_threshold=True, max_false_negative_rate=0.05)
    cal = calibrate(cands, cands.positive_scores, [range(2)] * 40, config)
    assert cal.chosen == pytest.approx(0.64)
    assert cal.rate_at_chosen == pytest.approx(4 / 80)
    assert cal.estimate_source == "held-out positives" and cal.support == 80
    assert "0.64 chosen" in cal.explanation and "0.95 would let" in cal.explanation
    assert cal.removed_fraction == sorted(cal.removed_fraction, reverse=True)  # laxer pct removes less


def test_auto_threshold_tunes_the_margin_when_percpos_is_off():
    cands = _candidates([[1.0, 1.0 - d] for d in np.linspace(0.005, 0.295, 30)])
    cal = calibrate(cands, cands.positive_scores, [range(2)] * 30,
                    MiningConfig(percpos=None, margin=0.0, auto_threshold=True, max_false_negative_rate=0.1))
    # The hidden 1 - d leaks when d > margin: 6 of 60 hidden positives may leak -> d > margin for 6 values.
    assert cal.tuned == "margin" and cal.rate_at_chosen <= 0.1
    assert sum(d > cal.chosen for d in np.linspace(0.005, 0.295, 30)) == 6


def test_without_several_positives_the_configured_threshold_stays_and_says_why():
    cands = _candidates([[0.8]] * 50)
    cal = calibrate(cands, cands.positive_scores, [range(1)] * 50, MiningConfig(auto_threshold=True))
    assert cal.chosen == 0.95 and cal.false_negative_rate == []
    assert "cannot be estimated" in cal.explanation
    assert cal.positive["p50"] == pytest.approx(0.8) and cal.candidate["max"] == pytest.approx(0.1)
