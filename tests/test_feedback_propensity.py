"""Position bias: EM and swap estimators recover a planted curve; IPW weights, clipping, skip-above negatives."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from embedtune.errors import EmbedtuneError
from embedtune.feedback import (
    FeedbackRecord,
    click_pairs,
    fit_pbm_em,
    fit_swap,
    ipw_weight,
    resample_by_weight,
)
from embedtune.feedback.ipw import filter_negatives
from embedtune.feedback.propensity import Propensity
from embedtune.feedback.simulate import Users, power_curve, simulate_log
from embedtune.mining.config import MiningConfig

TRUE = power_curve(10, 1.0)


@pytest.fixture(scope="module")
def log() -> list[FeedbackRecord]:
    """40 queries x 500 searches over 10 results, half of them with an exploration swap."""
    rng = np.random.default_rng(1)
    docs = {f"q{i}": [f"q{i}-d{j}" for j in range(10)] for i in range(40)}
    relevant = {q: {d for d in ds if rng.random() < 0.3} for q, ds in docs.items()}
    rankings = {q: list(rng.permutation(ds)) for q, ds in docs.items()}
    return simulate_log(rankings, relevant, Users(TRUE), 500, explore_rate=0.5, seed=2)


def test_em_recovers_the_planted_curve(log) -> None:
    fitted = fit_pbm_em(log)
    assert fitted.theta[0] == 1.0 and fitted.method == "em" and fitted.converged
    assert np.abs(fitted.theta - TRUE).max() < 0.06, fitted.theta
    assert fitted.impressions.sum() == 10 * len(log)


def test_swaps_recover_the_planted_curve(log) -> None:
    fitted = fit_swap(log)
    assert np.abs(fitted.theta - TRUE).max() < 0.06, fitted.theta


def test_swap_estimator_needs_exploration(log) -> None:
    plain = [r.model_copy(update={"swap": None}) for r in log[:50]]
    with pytest.raises(EmbedtuneError, match="--explore-rate"):
        fit_swap(plain)


def test_em_notes_an_unidentified_curve() -> None:
    fixed = {f"q{i}": [f"q{i}-d{j}" for j in range(5)] for i in range(10)}
    records = simulate_log(fixed, {q: {ds[0]} for q, ds in fixed.items()}, Users(TRUE[:5]), 20, seed=0)
    assert any("--explore-rate" in n for n in fit_pbm_em(records).notes)


def curve(*theta: float) -> Propensity:
    return Propensity(np.array(theta), "test", np.zeros(len(theta)), np.zeros(len(theta)))


def test_ipw_weights_are_inverse_propensities_clipped() -> None:
    p = curve(1.0, 0.5, 0.1, 0.01)
    assert ipw_weight(1, p, 10) == 1.0 and ipw_weight(2, p, 10) == 2.0
    assert ipw_weight(3, p, 10) == pytest.approx(10.0)
    assert ipw_weight(4, p, 10) == 10.0  # 100 clipped
    assert ipw_weight(9, p, 50) == 50.0  # beyond the curve: the last rank's propensity
    with pytest.raises(EmbedtuneError, match="at least 1"):
        ipw_weight(1, p, 0.5)


def record(query: str, shown: list[str], clicked: list[str], dwell: float | None = None) -> FeedbackRecord:
    return FeedbackRecord.model_validate({
        "timestamp": datetime(2025, 1, 1, tzinfo=UTC), "query": query,
        "results": [{"id": d, "position": i} for i, d in enumerate(shown, 1)],
        "clicks": [{"id": d, "dwell_s": dwell} for d in clicked]})


def test_click_pairs_sum_weights_and_collect_skipped_above() -> None:
    p = curve(1.0, 0.5, 0.25)
    records = [record("Scurvy cause", ["a", "b", "c"], ["c"]), record("scurvy  cause", ["a", "b", "c"], ["b", "c"]),
               record("other", ["x", "y"], ["x"], dwell=1.0)]
    pairs = {(q.query, q.doc_id): q for q in click_pairs(records, p, clip=3.0)}
    c = pairs[("Scurvy cause", "c")]
    assert c.clicks == 2 and c.weight == pytest.approx(3.0 + 3.0)  # 1/0.25 = 4, clipped at 3
    assert pairs[("Scurvy cause", "b")].weight == pytest.approx(2.0)
    assert c.skipped_above == {"a": 2}  # b was clicked for this query once: a positive, never a negative
    naive = {(q.query, q.doc_id): q for q in click_pairs(records, None, weighting="naive")}
    assert naive[("Scurvy cause", "c")].weight == 2.0
    assert ("other", "x") not in {(q.query, q.doc_id) for q in click_pairs(records, p, min_dwell_s=5.0)}


def test_skipped_above_negatives_pass_the_positive_aware_filter() -> None:
    pairs = click_pairs([record("q", ["near", "far", "pos"], ["pos"])], curve(1.0, 1.0, 1.0))
    scores = {"pos": 0.8, "near": 0.79, "far": 0.2}  # "near" scores like the positive: a likely false negative
    kept, counts = filter_negatives(pairs, lambda qs, ds: np.array([scores[d] for d in ds]),
                                    MiningConfig(percpos=0.95))
    assert kept == {("q", "pos"): ["far"]} and counts == {"candidates": 2, "kept": 1, "removed": 1}


def test_resampling_follows_the_weights() -> None:
    idx = resample_by_weight([1.0, 3.0], 40_000, seed=0)
    assert np.bincount(idx).tolist()[1] / 40_000 == pytest.approx(0.75, abs=0.01)
    with pytest.raises(EmbedtuneError, match="non-negative"):
        resample_by_weight([0.0, 0.0], 3)
