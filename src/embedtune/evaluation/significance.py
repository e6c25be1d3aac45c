"""Paired significance tests between two systems' per-query scores on the same queries.

Both tests ask whether the mean per-query difference could be chance. The paired t-test is the classic
choice; the paired randomisation (permutation) test flips the sign of each query's difference at random and
makes no normality assumption. Smucker, Allan & Carterette ("A Comparison of Statistical Significance Tests
for Information Retrieval Evaluation", CIKM 2007) found the two agree and recommend them over the Wilcoxon and
sign tests, so those are the two reported. Alongside the p-values: the mean delta, the effect size (Cohen's
d_z: mean difference over the standard deviation of differences) and wins/losses/ties, because with hundreds
of queries a tiny, useless delta can still be "significant".

No correction for multiple comparisons is applied; with many systems, read p-values near 0.05 with care.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from embedtune.errors import EmbedtuneError

N_RESAMPLES = 10_000
_CHUNK = 1_000  # sign-flip rows per step: bounded memory for any number of queries


def paired_differences(system: Mapping[str, float], reference: Mapping[str, float]) -> np.ndarray:
    """``system[q] - reference[q]`` over the queries both were scored on (which must be all of them)."""
    if set(system) != set(reference):
        raise EmbedtuneError("cannot compare runs scored on different query sets")
    return np.array([system[q] - reference[q] for q in reference], dtype=np.float64)


def paired_ttest(diffs: np.ndarray) -> float:
    """Two-sided p-value of the paired t-test on per-query differences."""
    from scipy import stats

    if len(diffs) < 2 or np.allclose(diffs, 0.0, rtol=0.0, atol=1e-12):
        return 1.0  # identical runs (or a single query): no evidence of any difference
    if np.ptp(diffs) < 1e-12:
        return 0.0  # the same non-zero difference on every query: zero variance, t is infinite
    return float(stats.ttest_1samp(diffs, 0.0).pvalue)


def randomization_test(diffs: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0) -> float:
    """Two-sided p-value of the paired randomisation test (random sign flips of each query's difference).

    Uses the (count + 1) / (n + 1) estimate, so it is never exactly 0.
    """
    observed = abs(diffs.mean()) if len(diffs) else 0.0
    if observed < 1e-12:
        return 1.0
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, _CHUNK):
        rows = min(_CHUNK, n_resamples - start)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(rows, len(diffs)))
        hits += int(np.count_nonzero(np.abs(signs @ diffs / len(diffs)) >= observed - 1e-12))
    return (hits + 1) / (n_resamples + 1)


@dataclass(frozen=True)
class Comparison:
    """One system against a reference on one metric, over the same queries."""

    metric: str
    system: str
    reference: str
    n_queries: int
    reference_mean: float
    system_mean: float
    delta: float
    p_ttest: float
    p_randomization: float
    effect_size: float | None
    wins: int
    losses: int
    ties: int

    def significant(self, alpha: float = 0.05) -> bool:
        """Both tests below ``alpha``."""
        return self.p_ttest < alpha and self.p_randomization < alpha

    def to_json(self) -> dict:
        return asdict(self)


def compare(
    system: Mapping[str, float],
    reference: Mapping[str, float],
    metric: str = "",
    system_name: str = "system",
    reference_name: str = "reference",
    n_resamples: int = N_RESAMPLES,
) -> Comparison:
    """Compare per-query scores ``system`` against ``reference`` (query id -> score, same query ids)."""
    diffs = paired_differences(system, reference)
    sd = float(diffs.std(ddof=1)) if len(diffs) > 1 else 0.0
    mean = float(diffs.mean()) if len(diffs) else 0.0
    effect = mean / sd if sd > 1e-12 else (0.0 if abs(mean) < 1e-12 else None)
    return Comparison(
        metric=metric,
        system=system_name,
        reference=reference_name,
        n_queries=len(diffs),
        reference_mean=float(np.mean(list(reference.values()))) if reference else 0.0,
        system_mean=float(np.mean(list(system.values()))) if system else 0.0,
        delta=mean,
        p_ttest=paired_ttest(diffs),
        p_randomization=randomization_test(diffs, n_resamples),
        effect_size=effect,
        wins=int(np.sum(diffs > 1e-12)),
        losses=int(np.sum(diffs < -1e-12)),
        ties=int(np.sum(np.abs(diffs) <= 1e-12)),
    )
