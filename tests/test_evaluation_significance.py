"""Paired significance tests: identical runs, clearly better runs, and agreement with exact / scipy answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from embedtune.errors import EmbedtuneError
from embedtune.evaluation.significance import compare, paired_ttest, randomization_test


def _scores(values):
    return {f"q{i}": float(v) for i, v in enumerate(values)}


def test_identical_runs_show_no_difference():
    ref = _scores(np.random.default_rng(0).random(50))
    c = compare(ref, ref, "ndcg@10", "a", "b")
    assert (c.delta, c.p_ttest, c.p_randomization, c.effect_size) == (0.0, 1.0, 1.0, 0.0)
    assert (c.wins, c.losses, c.ties) == (0, 0, 50)
    assert not c.significant()


def test_clearly_better_run_is_significant():
    rng = np.random.default_rng(1)
    ref = rng.random(60) * 0.5
    better = ref + 0.1 + rng.normal(0, 0.03, 60)
    c = compare(_scores(better), _scores(ref), "ndcg@10", "better", "ref")
    assert c.delta == pytest.approx(np.mean(better - ref))
    assert c.p_ttest < 1e-6 and c.p_randomization < 1e-3 and c.significant()
    assert c.effect_size > 2 and c.wins > 55


def test_balanced_differences_are_not_significant():
    ref = np.full(40, 0.5)
    noisy = ref + np.tile([0.1, -0.1], 20)
    c = compare(_scores(noisy), _scores(ref))
    assert c.delta == pytest.approx(0.0, abs=1e-12)
    assert c.p_ttest > 0.9 and c.p_randomization > 0.9


def test_ttest_matches_scipy_paired_test():
    rng = np.random.default_rng(2)
    a, b = rng.random(30), rng.random(30)
    assert paired_ttest(a - b) == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-9)


def test_randomization_matches_exact_enumeration():
    diffs = np.array([0.3, 0.1, -0.05, 0.2, 0.0, 0.15, -0.1, 0.25, 0.05, 0.12])
    observed = abs(diffs.mean())
    patterns = np.array(list(itertools.product([-1, 1], repeat=len(diffs))))
    exact = np.mean(np.abs(patterns @ diffs / len(diffs)) >= observed - 1e-12)
    assert randomization_test(diffs, n_resamples=20_000) == pytest.approx(exact, abs=0.01)


def test_constant_nonzero_difference_and_mismatched_queries():
    assert paired_ttest(np.full(10, 0.2)) == 0.0
    with pytest.raises(EmbedtuneError, match="different query sets"):
        compare({"q1": 1.0}, {"q2": 1.0})
