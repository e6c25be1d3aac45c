"""The gate's decision on per-query scores: which alpha, per-dim verdicts, exit status, the dev ceiling."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from embedtune.gate import KEPT_BASE_EXIT_CODE, NOTHING_BEATS_BASE, GateConfig, decide

DIMS = (384, 192, 96)
N = 200


def scores(mean: float, seed: int, spread: float = 0.1) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {f"q{i}": float(v) for i, v in enumerate(np.clip(rng.normal(mean, spread, N), 0, 1))}


def shifted(base: dict[str, float], delta: float, seed: int, noise: float = 0.05) -> dict[str, float]:
    """``base`` per query plus ``delta`` and paired noise: a system compared on the same queries."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(0, noise, len(base))
    eps -= eps.mean()  # the mean shift is exactly delta (up to clipping at 0 and 1)
    return {q: float(np.clip(v + delta + e, 0, 1)) for (q, v), e in zip(base.items(), eps)}


@pytest.fixture
def base() -> dict[int, dict[str, float]]:
    return {d: scores(0.6 - d / 2000, d) for d in DIMS}


def grid(base, deltas: dict[float, dict[int, float]]) -> dict[float, dict[int, dict[str, float]]]:
    return {a: {d: shifted(base[d], deltas[a][d], int(a * 100) + d) for d in DIMS} for a in deltas}


CFG = GateConfig(ood=False)


def test_a_clear_gain_delivers_the_best_alpha_with_exit_0(base) -> None:
    cands = grid(base, {0.5: dict.fromkeys(DIMS, 0.02), 1.0: dict.fromkeys(DIMS, 0.05)})
    result = decide(base, cands, CFG)
    assert (result.delivered, result.chosen_alpha, result.exit_code, result.proven) == ("tuned", 1.0, 0, True)
    assert [v.status for v in result.verdicts] == ["better"] * 3 and [v.dim for v in result.verdicts] == list(DIMS)
    assert result.explanation[0] == "delivering tuned"
    json.dumps(result.to_json())  # serialisable as it is


def test_ties_go_to_the_smaller_change(base) -> None:
    same = dict.fromkeys(DIMS, 0.05)
    cands = {a: {d: shifted(base[d], 0.05, d, noise=0.0) for d in DIMS} for a in (0.5, 0.75, 1.0)}
    result = decide(base, cands, CFG)
    assert (result.delivered, result.chosen_alpha) == ("merged", 0.5)
    better_tuned = grid(base, {0.5: same, 1.0: dict.fromkeys(DIMS, 0.08)})
    assert decide(base, better_tuned, CFG).chosen_alpha == 1.0


def test_a_regression_at_one_dim_refuses_the_candidate_and_a_merge_can_rescue(base) -> None:
    tuned = {384: 0.06, 192: 0.04, 96: -0.05}  # the physics example: better at full size, worse when truncated
    result = decide(base, grid(base, {1.0: tuned}), CFG)
    assert (result.delivered, result.exit_code, result.chosen_alpha) == ("base", KEPT_BASE_EXIT_CODE, None)
    assert result.explanation[0] == NOTHING_BEATS_BASE
    assert [v.status for v in result.verdicts] == ["better", "better", "worse"]
    assert any("worse than base on dev at 96 dims" in line for line in result.explanation)
    rescued = decide(base, grid(base, {0.5: {384: 0.03, 192: 0.02, 96: -0.003}, 1.0: tuned}), CFG)
    assert (rescued.delivered, rescued.chosen_alpha, rescued.exit_code) == ("merged", 0.5, 0)
    assert [c.passes for c in rescued.candidates] == [True, False]


def test_a_small_fall_within_noise_passes_but_a_big_one_never_does(base) -> None:
    small = decide(base, grid(base, {1.0: {384: 0.03, 192: 0.02, 96: -0.002}}), CFG)
    assert small.delivered == "tuned" and small.verdicts[2].status == "noise"
    # A fall larger than max_dev_drop refuses whatever the p-value (a tiny, noisy dev slice).
    few = {d: {q: v for q, v in list(base[d].items())[:8]} for d in DIMS}
    noisy = {1.0: {d: shifted(few[d], 0.1 if d != 96 else -0.03, d, noise=0.3) for d in DIMS}}
    result = decide(few, noisy, CFG)
    assert result.delivered == "base" and result.verdicts[2].status == "worse"
    assert result.verdicts[2].comparison.p_randomization > CFG.harm_p


def test_nothing_better_is_refused(base) -> None:
    result = decide(base, {1.0: {d: dict(base[d]) for d in DIMS}}, CFG)
    assert result.delivered == "base" and result.exit_code == KEPT_BASE_EXIT_CODE
    assert "not better than base on dev" in " ".join(result.explanation)


def test_the_out_of_domain_guard_refuses_a_candidate_that_forgets(base) -> None:
    ood_base = {d: scores(0.9, d + 1, 0.05) for d in DIMS}
    cands = grid(base, {0.5: dict.fromkeys(DIMS, 0.03), 1.0: dict.fromkeys(DIMS, 0.06)})
    ood = {0.5: {d: shifted(ood_base[d], -0.004, d, 0.0) for d in DIMS},
           1.0: {d: shifted(ood_base[d], -0.03, d, 0.0) for d in DIMS}}
    result = decide(base, cands, GateConfig(), base_ood=ood_base, candidates_ood=ood, ood_name="slice")
    assert (result.delivered, result.chosen_alpha) == ("merged", 0.5)
    assert any(r.startswith("out-of-domain ndcg@10 falls 0.03") for r in result.candidates[1].refused)
    assert any(line.startswith("out of domain (slice), tuned keeps") for line in result.explanation)
    assert result.to_json()["curve"][0]["alpha"] == 0.0 and "ood@96" in result.to_json()["curve"][2]
    report_only = decide(base, cands, GateConfig(max_ood_drop=None), base_ood=ood_base, candidates_ood=ood)
    assert report_only.chosen_alpha == 1.0


def test_a_dev_slice_at_its_ceiling_cannot_choose(base) -> None:
    easy = {d: {q: 1.0 if i % 50 else 0.0 for i, q in enumerate(base[d])} for d in DIMS}  # base NDCG@10 0.98
    cands = {a: {d: {q: 1.0 for q in easy[d]} for d in DIMS} for a in (0.5, 1.0)}
    result = decide(easy, cands, CFG)
    assert not result.ceiling.can_discriminate and result.ceiling.perfect_share == pytest.approx(0.98)
    assert (result.delivered, result.chosen_alpha, result.proven, result.exit_code) == ("merged", 0.5, False, 0)
    assert "cannot discriminate" in " ".join(result.explanation)
    kept = decide(easy, cands, GateConfig(ood=False, ceiling_fallback="base"))
    assert kept.delivered == "base" and kept.exit_code == KEPT_BASE_EXIT_CODE
    assert kept.explanation[0].startswith("the dev slice cannot show that anything beats base")
    worse = {a: {d: {q: 0.0 if i % 5 == 0 else v for i, (q, v) in enumerate(easy[d].items())} for d in DIMS}
             for a in (0.5, 1.0)}
    assert decide(easy, worse, CFG).delivered == "base"  # falls from the ceiling are still seen


def test_without_a_dev_slice_only_a_checked_fallback_is_delivered() -> None:
    ood = {d: scores(0.9, d, 0.05) for d in DIMS}
    cands = {a: {d: {} for d in DIMS} for a in (0.5, 1.0)}
    ok = decide(None, cands, GateConfig(), base_ood=ood, candidates_ood={a: ood for a in (0.5, 1.0)})
    assert (ok.delivered, ok.proven, ok.ceiling) == ("merged", False, None)
    assert decide(None, cands, GateConfig(ood=False)).delivered == "base"  # nothing checked it


def test_config_is_strict_and_sorted() -> None:
    assert GateConfig(alphas=[1.0, 0.5, 0.5]).alphas == [0.5, 1.0]
    assert GateConfig(ood_dataset="some/beir").ood_dataset[0].name == "beir"
    with pytest.raises(ValidationError):
        GateConfig(alpha=[0.5])  # a typo is an error, not a silent default
    with pytest.raises(ValidationError):
        GateConfig(alphas=[0.0, 1.0])
