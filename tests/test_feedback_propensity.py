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
from embedtune.feedback.ipw import filter_negatives, fit_noise_floor, pair_evidence
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
    with pytest.raises(EmbedtuneError, match="explore_rate"):
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


def test_click_pairs_aggregate_debiased_rates_and_collect_skipped_above() -> None:
    p = curve(1.0, 0.5, 0.25)
    records = [record("Scurvy cause", ["a", "b", "c"], ["c"]), record("scurvy  cause", ["a", "b", "c"], ["b", "c"]),
               record("other", ["x", "y"], ["x"], dwell=1.0)]
    evidence = pair_evidence(records, p, fit_noise_floor(records, p), clip=3.0)
    ctr = dict(zip(evidence.pairs, evidence.ctr))
    assert ctr[("scurvy cause", "c")] == pytest.approx((3.0 + 3.0) / 2)  # 1/0.25 = 4, clipped at 3; 2 impressions
    assert ctr[("scurvy cause", "b")] == pytest.approx(2.0 / 2) and ctr[("scurvy cause", "a")] == 0.0
    pairs = {(q.query, q.doc_id): q for q in click_pairs(records, p, clip=3.0)}
    c = pairs[("Scurvy cause", "c")]
    assert c.clicks == 2 and c.weight > 0
    assert c.skipped_above == {"a": 2}  # b was clicked for this query once: a positive, never a negative
    naive = {(q.query, q.doc_id): q for q in click_pairs(records, None, weighting="naive")}
    assert naive[("Scurvy cause", "c")].weight == 2.0 and naive[("Scurvy cause", "b")].weight == 1.0
    assert ("other", "x") not in {(q.query, q.doc_id) for q in click_pairs(records, p, min_dwell_s=5.0)}
    with pytest.raises(EmbedtuneError, match="propensity"):
        click_pairs(records, None)


@pytest.fixture(scope="module")
def noisy_log() -> tuple[list[FeedbackRecord], dict[str, set[str]]]:
    """60 queries x 60 searches, one relevant result at a random rank (or none shown); 5% noise clicks."""
    rng = np.random.default_rng(3)
    rankings, relevant = {}, {}
    for i in range(60):
        rankings[f"q{i}"] = [f"q{i}-d{j}" for j in range(10)]
        rank = int(rng.integers(12))  # 10, 11: the relevant result is not shown
        relevant[f"q{i}"] = {f"q{i}-d{rank}"} if rank < 10 else set()
    return simulate_log(rankings, relevant, Users(TRUE), 60, explore_rate=0.3, seed=4), relevant


def noise_share(weights: dict[tuple[str, str], float], relevant: dict[str, set[str]]) -> float:
    noise = sum(w for (q, d), w in weights.items() if d not in relevant[q])
    return noise / sum(weights.values())


def test_the_noise_floor_removes_uniform_noise_clicks_at_deep_ranks(noisy_log) -> None:
    records, relevant = noisy_log
    p = curve(*TRUE)
    floor = fit_noise_floor(records, p)
    assert floor.noise == pytest.approx(0.05, abs=0.02) and floor.relevant == pytest.approx(0.9, abs=0.05)
    raw: dict[tuple[str, str], float] = {}  # the old weighting: every click 1/theta, summed
    for r in records:
        for c in r.clicks:
            raw[(r.query, c.id)] = raw.get((r.query, c.id), 0.0) + ipw_weight(c.position, p, 10)
    assert noise_share(raw, relevant) > 0.2  # deep noise clicks lifted to the clip
    pairs = click_pairs(records, p, floor=floor)
    assert noise_share({(q.query, q.doc_id): q.weight for q in pairs}, relevant) < 0.03
    # A query whose relevant result was never shown gets (almost) no positive weight from its noise clicks.
    blind = {q for q, r in relevant.items() if not r}
    assert blind and sum(q.weight for q in pairs if q.query in blind) < 0.01 * sum(q.weight for q in pairs)
    # Still unbiased across ranks: relevant results shown deep weigh on average about as much as top ones.
    rel = [(int(q.doc_id.split("-d")[1]), q.weight) for q in pairs if q.doc_id in relevant[q.query]]
    top, deep = (np.mean([w for k, w in rel if k in ks]) for ks in ((0, 1, 2), (6, 7, 8, 9)))
    assert deep == pytest.approx(top, rel=0.3), rel


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
