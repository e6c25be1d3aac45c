"""The baseline checklist: failure kinds, the ranking ceiling, and each verdict on fabricated results."""

from __future__ import annotations

import pytest

from embedtune.evaluation.baseline import decide, first_relevant_rank, outcome, outcome_shares, ranking_ceiling
from embedtune.evaluation.evaluate import EvaluationReport, SystemResult
from embedtune.evaluation.metrics import RunEvaluation

QRELS = {"q1": {"a": 2, "b": 1}, "q2": {"c": 1}, "q3": {"d": 1}}


def test_failure_kinds_and_shares():
    run = {"q1": {"x": 0.9, "b": 0.8}, "q2": {f"n{i}": 1 - i / 100 for i in range(30)} | {"c": 0.0}, "q3": {"x": 1.0}}
    assert first_relevant_rank(run["q1"], QRELS["q1"]) == 2
    assert first_relevant_rank(run["q2"], QRELS["q2"]) == 31
    assert [outcome(r) for r in (1, 10, 11, 100, None)] == ["top10", "top10", "ranking_failure", "ranking_failure",
                                                            "retrieval_failure"]
    shares = outcome_shares(run, QRELS, ["q1", "q2", "q3"])
    assert shares == pytest.approx({"top10": 1 / 3, "ranking_failure": 1 / 3, "retrieval_failure": 1 / 3}, abs=1e-6)


def test_ranking_ceiling_is_a_perfect_reordering_of_the_candidates():
    run = {"q1": {"x": 0.9, "b": 0.8, "a": 0.1}, "q2": {"y": 1.0}, "q3": {"d": 0.5}}
    # q1: both relevant docs are candidates -> 1.0; q2: its relevant doc is missing -> 0.0; q3 -> 1.0.
    assert ranking_ceiling(run, QRELS, ["q1", "q2", "q3"]) == pytest.approx(2 / 3)


def _report(ndcg: dict[str, float], recall10: dict[str, float]) -> EvaluationReport:
    systems = {
        name: SystemResult(name, {}, RunEvaluation({"ndcg@10": v, "recall@10": recall10[name]}, {}, [], []), 0.0)
        for name, v in ndcg.items()
    }
    return EvaluationReport("d", "test", ["ndcg@10", "recall@10"], systems, [], 100, [])


@pytest.mark.parametrize(
    ("ndcg", "recall10", "retrieval_failures", "label"),
    [  # systems: dense, bm25, hybrid
        ((0.90, 0.92, 0.93), (0.93, 0.95, 0.96), 0.01, "unlikely"),
        ((0.60, 0.66, 0.69), (0.75, 0.80, 0.84), 0.07, "likely"),
        ((0.60, 0.40, 0.62), (0.75, 0.55, 0.77), 0.20, "likely"),
        ((0.60, 0.40, 0.78), (0.75, 0.55, 0.85), 0.05, "unlikely"),
        ((0.60, 0.40, 0.63), (0.75, 0.55, 0.78), 0.05, "possible"),
    ],
    ids=["recall-already-high", "bm25-beats-dense", "retrieval-failures", "hybrid-closes-gap", "room-left"],
)
def test_verdicts(ndcg, recall10, retrieval_failures, label):
    names = ("dense", "bm25", "hybrid")
    ndcg, recall10 = dict(zip(names, ndcg)), dict(zip(names, recall10))
    outcomes = {n: {"top10": 0.7, "ranking_failure": 0.3 - retrieval_failures, "retrieval_failure": retrieval_failures}
                for n in ndcg}
    best, verdict = decide(_report(ndcg, recall10), "dense", "bm25", "hybrid", None, outcomes, ceiling=0.9)
    assert verdict.label == label, verdict.headline
    assert best == max(ndcg, key=ndcg.get)
    assert len(verdict.findings) == 4 and all(f.strip() for f in verdict.findings)
    if best != "dense":
        assert verdict.next_steps[0].startswith(f"Use {best} now")
