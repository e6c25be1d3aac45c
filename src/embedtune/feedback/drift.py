"""Drift monitor: are users now asking things the model was not trained for? Then a retrain is due.

Three signals, each with a test so that an unchanged stream does not raise alarms:

* **Embedding shift**: distinct recent queries vs training queries, embedded by the current model. The statistic is
  the squared maximum mean discrepancy with a Gaussian kernel (bandwidth: median pairwise distance), and its
  p-value comes from a permutation test (Gretton et al., "A kernel two-sample test", JMLR 2012). The distance
  between the two mean embeddings (1 - cosine of the centroids) is reported as an easy-to-read size.
* **New vocabulary**: share of recent query word occurrences never seen in a training query.
* **Zero-click rate**: share of recent searches without a click vs earlier searches, one-sided
  two-proportion z-test (a rising rate means results stopped satisfying).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from embedtune.errors import EmbedtuneError
from embedtune.feedback.log import FeedbackRecord
from embedtune.feedback.propensity import clicked_ids

_WORD = re.compile(r"\w+", re.UNICODE)


class DriftConfig(BaseModel):
    """Thresholds of the drift monitor."""

    recent_share: float = Field(0.3, gt=0, lt=1, description="Newest share of the log (by timestamp) that is 'recent'.")
    max_queries: int = Field(500, ge=10, description="Queries sampled per side for the embedding test.")
    permutations: int = Field(200, ge=20)
    alpha: float = Field(0.01, gt=0, lt=1, description="Significance level of every test.")
    min_centroid_distance: float = Field(0.0, ge=0, description="Ignore a significant shift smaller than this.")
    max_new_vocab: float = Field(0.25, gt=0, le=1, description="Share of new words that calls for a retrain.")
    min_zero_click_rise: float = Field(0.05, ge=0, description="Rise in the zero-click rate that matters.")
    seed: int = 0


@dataclass
class DriftReport:
    """The signals, their tests, and the verdict."""

    recent_queries: int
    training_queries: int
    mmd2: float
    mmd_p_value: float
    centroid_distance: float
    new_vocab_share: float
    zero_click_before: float | None
    zero_click_recent: float | None
    zero_click_p_value: float | None
    flags: list[str] = field(default_factory=list)

    @property
    def retrain_due(self) -> bool:
        return bool(self.flags)

    def to_json(self) -> dict:
        return asdict(self) | {"retrain_due": self.retrain_due}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, permutations: int = 200, seed: int = 0) -> tuple[float, float]:
    """Unbiased squared MMD between samples ``x`` and ``y`` (Gaussian kernel, median heuristic) and its p-value."""
    from scipy.spatial.distance import cdist

    z = np.vstack([x, y]).astype(np.float64)
    d2 = cdist(z, z, "sqeuclidean")
    off = d2[np.triu_indices(len(z), 1)]
    bandwidth = np.median(off[off > 0]) if np.any(off > 0) else 1.0
    kernel = np.exp(-d2 / bandwidth)
    np.fill_diagonal(kernel, 0.0)  # the unbiased estimator leaves out k(x_i, x_i)
    n, m = len(x), len(y)

    def stat(labels: np.ndarray) -> float:
        a, b = labels == 0, labels == 1
        kxx = kernel[np.ix_(a, a)].sum() / (n * (n - 1))
        kyy = kernel[np.ix_(b, b)].sum() / (m * (m - 1))
        kxy = kernel[np.ix_(a, b)].sum() / (n * m)
        return float(kxx + kyy - 2 * kxy)

    labels = np.r_[np.zeros(n, int), np.ones(m, int)]
    observed = stat(labels)
    rng = np.random.default_rng(seed)
    hits = sum(stat(rng.permutation(labels)) >= observed for _ in range(permutations))
    return observed, (hits + 1) / (permutations + 1)


def _zero_click(records: Sequence[FeedbackRecord]) -> float:
    return float(np.mean([not clicked_ids(r) for r in records])) if records else float("nan")


def drift_report(
    training_queries: Sequence[str],
    records: Sequence[FeedbackRecord],
    encode: Callable[[list[str]], np.ndarray],
    config: DriftConfig = DriftConfig(),
) -> DriftReport:
    """Compare the newest ``recent_share`` of ``records`` with ``training_queries`` (and with older records).

    ``encode`` embeds query texts with the current model (normalised rows).
    """
    from scipy import stats

    if len(training_queries) < 10:
        raise EmbedtuneError(f"only {len(training_queries)} training queries: too few to test for drift")
    ordered = sorted(records, key=lambda r: r.timestamp)
    cut = int(round(len(ordered) * (1 - config.recent_share)))
    before, recent = ordered[:cut], ordered[cut:]
    if len(recent) < 10:
        raise EmbedtuneError(f"only {len(recent)} recent searches in the feedback: too few to test for drift")
    rng = np.random.default_rng(config.seed)

    def sample(texts: Sequence[str]) -> list[str]:
        texts = list(texts)
        if len(texts) <= config.max_queries:
            return texts
        return [texts[i] for i in rng.choice(len(texts), config.max_queries, replace=False)]

    # Distinct texts: a popular query repeated a hundred times is one point of the distribution, not a cluster.
    train_s = sample(dict.fromkeys(training_queries))
    recent_s = sample(dict.fromkeys(r.query for r in recent))
    if len(recent_s) < 10:
        raise EmbedtuneError(f"only {len(recent_s)} distinct recent queries: too few to test for drift")
    x, y = encode(train_s), encode(recent_s)
    mmd2, p = mmd_permutation_test(x, y, config.permutations, config.seed)
    cx, cy = x.mean(0), y.mean(0)
    centroid = float(1 - cx @ cy / max(np.linalg.norm(cx) * np.linalg.norm(cy), 1e-12))
    vocab = {w for q in training_queries for w in words(q)}
    recent_words = [w for r in recent for w in words(r.query)]
    new_share = float(np.mean([w not in vocab for w in recent_words])) if recent_words else 0.0

    z_before = z_recent = z_p = None
    if len(before) >= 10:
        z_before, z_recent = _zero_click(before), _zero_click(recent)
        n1, n2 = len(before), len(recent)
        pooled = (z_before * n1 + z_recent * n2) / (n1 + n2)
        se = np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n1 + 1 / n2))
        z_p = float(stats.norm.sf((z_recent - z_before) / se))

    report = DriftReport(len(recent), len(training_queries), mmd2, p, centroid, new_share, z_before, z_recent, z_p)
    if p < config.alpha and centroid >= config.min_centroid_distance:
        report.flags.append(f"recent queries moved away from the training queries (MMD² {mmd2:.4f}, p = {p:.3g}, "
                            f"centroid distance {centroid:.3f})")
    if new_share > config.max_new_vocab:
        report.flags.append(f"{new_share:.0%} of recent query words never appear in a training query "
                            f"(threshold {config.max_new_vocab:.0%})")
    if z_p is not None and z_p < config.alpha and z_recent - z_before >= config.min_zero_click_rise:  # type: ignore[operator]
        report.flags.append(f"zero-click rate rose from {z_before:.1%} to {z_recent:.1%} (p = {z_p:.3g})")
    return report
