"""Which path to take, computed from the measured numbers: the query adapter, a full fine-tune, or the base model.

The rule (also in docs/adapter.md, "Choosing"):

1. A path **lifts** when it beats base significantly (paired t-test and randomisation test both < 0.05) at one
   Matryoshka dim or more and is significantly worse at none.
2. Neither lifts: keep the base model.
3. Only one lifts: that one.
4. Both lift: the adapter when its share of the fine-tune's lift (its mean NDCG@10 delta over the dims divided by
   the fine-tune's) is at least :data:`MIN_SHARE`, or when re-embedding the corpus would take longer than the
   re-embedding budget; otherwise the fine-tune.

Half the lift is where the adapter's cost (seconds, no stored vector changes) clearly outweighs what it leaves on
the table; the budget is the user's: an hour by default, the point at which the issue's users stopped fine-tuning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from embedtune.evaluation.significance import Comparison

MIN_SHARE = 0.5
REEMBED_BUDGET_S = 3600.0

Choice = Literal["adapter", "fine-tune", "base"]


@dataclass(frozen=True)
class Recommendation:
    """The path to take and why, in one line; ``share`` is the adapter's share of the fine-tune's lift (None
    without a fine-tune, or when the fine-tune did not lift on average)."""

    choice: Choice
    reason: str
    share: float | None = None

    def line(self) -> str:
        return f"recommendation: {self.choice} ({self.reason})"


def lifts(per_dim: Sequence[Comparison]) -> bool:
    """Significantly better than base at some dim and significantly worse at none."""
    return any(c.significant() and c.delta > 0 for c in per_dim) and not any(
        c.significant() and c.delta < 0 for c in per_dim)


def lift_share(adapter: Sequence[Comparison], tuned: Sequence[Comparison]) -> float | None:
    """Mean adapter delta over the dims divided by the fine-tune's (None when the fine-tune's is not positive)."""
    if not tuned:
        return None
    tuned_mean = sum(c.delta for c in tuned) / len(tuned)
    return sum(c.delta for c in adapter) / len(adapter) / tuned_mean if tuned_mean > 1e-9 else None


def recommend(adapter: Sequence[Comparison], tuned: Sequence[Comparison], reembed_seconds: float,
              reembed_budget_s: float = REEMBED_BUDGET_S, min_share: float = MIN_SHARE) -> Recommendation:
    """Apply the rule of this module to base-vs-adapter and base-vs-fine-tune comparisons (one per dim; ``tuned``
    empty when no fine-tune was measured) and the fine-tune's re-embedding time for this corpus."""
    share = lift_share(adapter, tuned)
    adapter_lifts, tuned_lifts = lifts(adapter), bool(tuned) and lifts(tuned)
    over_budget = reembed_seconds > reembed_budget_s
    if not adapter_lifts and not tuned_lifts:
        measured = "neither the adapter nor the fine-tune" if tuned else "the adapter does not"
        return Recommendation("base", f"{measured} lifts NDCG@10 significantly at any dim: keep the base model", share)
    if not tuned:
        return Recommendation("adapter", "lifts NDCG@10 significantly with no corpus re-embedding; no fine-tune "
                              "measured to compare with", share)
    if adapter_lifts and not tuned_lifts:
        return Recommendation("adapter", "it lifts significantly and the fine-tune does not", share)
    cost = f"re-embedding takes {reembed_seconds:,.0f}s (budget {reembed_budget_s:,.0f}s)"
    if not adapter_lifts:
        return Recommendation("fine-tune", f"only the fine-tune lifts significantly; {cost}", share)
    if share is not None and share >= min_share:
        return Recommendation("adapter", f"{share:.0%} of the fine-tune's lift (>= {min_share:.0%}) with no "
                              "re-embedding", share)
    if over_budget:
        return Recommendation("adapter", f"{cost}; the adapter gets {share or 0:.0%} of the fine-tune's lift "
                              "without it", share)
    return Recommendation("fine-tune", f"the adapter gets {share or 0:.0%} of its lift (< {min_share:.0%}); {cost}",
                          share)
