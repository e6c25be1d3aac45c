"""Current vs candidate model on two held-out sets, and the promotion gate.

The golden set (``eval/`` of the workspace: real or held-out queries with qrels) guards against forgetting
what the model was tuned for; held-out feedback (queries never trained on) checks that it learned what users
want now. Its labels are debiased (:func:`feedback_heldout`): raw clicks only land on what the current model
showed, and with enough searches every shown result gets a noise click, so "clicked = relevant" would make
the current model's own top 10 the answer key and refuse any candidate that reorders it. A candidate that
falls on either by more than the configured tolerance is not promoted. Both comparisons are paired over the
same queries (:func:`significance.compare`), and judged by the same code as the run's regression gate
(:func:`embedtune.gate.verdict.judge`, with only the size of the fall counting).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from embedtune.evaluation.significance import Comparison, compare
from embedtune.feedback.ipw import NoiseFloor, pair_evidence
from embedtune.feedback.log import FeedbackRecord
from embedtune.feedback.propensity import Propensity, query_key
from embedtune.feedback.retrain_config import GateConfig
from embedtune.gate.verdict import describe, judge
from embedtune.retrieval.base import Document


@dataclass
class HeldOut:
    """One evaluation set: documents, queries and qrels (and, for chunks of documents, the chunk -> doc map)."""

    name: str
    docs: Sequence[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    chunk_docs: Mapping[str, Sequence[str]] | None = None


def feedback_heldout(records: Sequence[FeedbackRecord], docs: Sequence[Document], propensity: Propensity,
                     floor: NoiseFloor, *, clip: float = 10.0, min_dwell_s: float | None = None) -> HeldOut:
    """Held-out searches as an eval set: each distinct query, its relevant chunks by debiased clicks (grade 1).

    A shown chunk is relevant when the relevance-vs-noise mixture fitted on the training searches
    (``floor``, :mod:`embedtune.feedback.ipw`) finds it more likely relevant than noise, with a debiased click
    rate above the noise floor. Results the current model never showed stay unjudged: a candidate that brings
    them up gets no credit for it, so this check is conservative.
    """
    known = {d.id for d in docs}
    queries = {"fb:" + query_key(r.query): r.query for r in reversed(records)}  # first spelling wins
    qrels: dict[str, dict[str, int]] = {}
    if records:
        evidence = pair_evidence(records, propensity, floor, clip=clip, min_dwell_s=min_dwell_s)
        for key, doc in sorted(evidence.relevant(floor)):
            if doc in known:
                qrels.setdefault("fb:" + key, {})[doc] = 1
    return HeldOut("feedback", docs, {q: queries[q] for q in qrels}, qrels)


def compare_models(current: str, candidate: str, heldout: HeldOut, metric: str,
                   cache_dir: str | Path | None = None) -> Comparison:
    """Paired comparison of ``candidate`` against ``current`` on ``heldout`` (dense, full dim)."""
    from embedtune.evaluation.evaluate import evaluate_retrievers
    from embedtune.retrieval.dense import DenseRetriever
    from embedtune.retrieval.maxp import MaxPRetriever

    systems = [DenseRetriever(current, label="current", cache_dir=cache_dir, name="current"),
               DenseRetriever(candidate, label="candidate", cache_dir=cache_dir, name="candidate")]
    if heldout.chunk_docs is not None:
        systems = [MaxPRetriever(s, heldout.chunk_docs) for s in systems]
    report = evaluate_retrievers(systems, heldout.docs, heldout.queries, heldout.qrels, [metric],
                                 comparison_metrics=[metric], dataset=heldout.name)
    a, b = (report.systems[s.name].evaluation.per_query[metric] for s in systems)
    return compare(b, a, metric, "candidate", "current")


def gate(results: Mapping[str, Comparison | None], config: GateConfig) -> tuple[bool, list[str]]:
    """Whether the candidate may be promoted, and why (one reason per check)."""
    limits = {"golden": config.max_golden_drop, "feedback": config.max_feedback_drop}
    ok, reasons = True, []
    for name, result in results.items():
        if result is None:
            reasons.append(f"{name}: not evaluated (no usable held-out queries)")
            continue
        limit = limits.get(name, 0.0)
        verdict = f"{name} {describe(result)}"
        # The run gate's rule with only the size of the fall counting: any fall past the tolerance refuses.
        if judge(result, max_drop=limit, harm_p=None) == "worse":
            ok = False
            reasons.append(f"REGRESSION {verdict}; allowed fall {limit}")
        else:
            reasons.append(verdict)
    if all(r is None for r in results.values()):
        ok = False
        reasons.append("nothing to evaluate the candidate on: not promoted")
    return ok, reasons
