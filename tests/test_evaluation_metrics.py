"""Metrics: hand-computed cases, trec_eval tie order, and an independent reference implementation to 1e-6."""

from __future__ import annotations

import math
import os
import random

import pytest

from embedtune.errors import EmbedtuneError
from embedtune.evaluation.metrics import default_metrics, evaluate_run, parse_metric, parse_metrics

LOG2_3, LOG2_5 = math.log2(3), math.log2(5)


def test_hand_computed_graded_case():
    # q1 ranking: b (grade 0), c (1), d (unjudged), a (2). q2's only relevant doc is never retrieved.
    qrels = {"q1": {"a": 2, "b": 0, "c": 1}, "q2": {"x": 1}, "q3": {"y": 0}}
    run = {"q1": {"b": 0.9, "c": 0.5, "d": 0.4, "a": 0.1}, "q2": {"z": 1.0}}
    metrics = ["ndcg@3", "ndcg@10", "recall@1", "recall@3", "recall@10", "precision@1", "precision@3",
               "mrr@1", "mrr@3", "mrr@10", "map@3", "map@10"]
    ev = evaluate_run(qrels, run, metrics)
    idcg = 2 + 1 / LOG2_3
    expected_q1 = {
        "ndcg@3": (1 / LOG2_3) / idcg,
        "ndcg@10": (1 / LOG2_3 + 2 / LOG2_5) / idcg,  # linear gain, as trec_eval and BEIR
        "recall@1": 0.0, "recall@3": 0.5, "recall@10": 1.0,
        "precision@1": 0.0, "precision@3": 1 / 3,
        "mrr@1": 0.0, "mrr@3": 0.5, "mrr@10": 0.5,
        "map@3": (1 / 2) / 2,  # AP@k divides by all relevant documents
        "map@10": (1 / 2 + 2 / 4) / 2,
    }
    assert ev.queries == ["q1", "q2"]
    assert ev.no_relevant == ["q3"]  # grade-0-only query: reported, not averaged
    for m, v in expected_q1.items():
        assert ev.per_query[m]["q1"] == pytest.approx(v, abs=1e-6), m
        assert ev.per_query[m]["q2"] == 0.0
        assert ev.means[m] == pytest.approx(v / 2, abs=1e-6), m


def test_ties_are_broken_like_trec_eval_everywhere():
    # Equal scores: trec_eval ranks by doc id descending, so "b" comes before "a" for every metric, MRR included.
    qrels = {"q": {"a": 1}}
    run = {"q": {"a": 0.5, "b": 0.5}}
    ev = evaluate_run(qrels, run, ["mrr@1", "mrr@2", "ndcg@1", "recall@1"])
    assert ev.means == {"mrr@1": 0.0, "mrr@2": 0.5, "ndcg@1": 0.0, "recall@1": 0.0}


def test_unanswered_and_unknown_queries():
    ev = evaluate_run({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": {"a": 1.0}, "other": {"a": 1.0}}, ["ndcg@10"])
    assert ev.per_query["ndcg@10"] == {"q1": 1.0, "q2": 0.0}
    assert ev.means["ndcg@10"] == 0.5


def _reference(qrels, run, measure, k):
    """Textbook definitions, written independently of trec_eval (no ties in the data below)."""
    out = {}
    for q, judged in qrels.items():
        rel = {d: g for d, g in judged.items() if g > 0}
        if not rel:
            continue
        ranking = [d for d, _ in sorted(run.get(q, {}).items(), key=lambda x: -x[1])][:k]
        hits = [rel.get(d, 0) for d in ranking]
        if measure == "ndcg":
            dcg = sum(g / math.log2(i + 2) for i, g in enumerate(hits))
            ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(rel.values(), reverse=True)[:k]))
            out[q] = dcg / ideal
        elif measure == "recall":
            out[q] = sum(1 for g in hits if g) / len(rel)
        elif measure == "precision":
            out[q] = sum(1 for g in hits if g) / k
        elif measure == "mrr":
            out[q] = next((1 / (i + 1) for i, g in enumerate(hits) if g), 0.0)
        elif measure == "map":
            found, total = 0, 0.0
            for i, g in enumerate(hits):
                if g:
                    found += 1
                    total += found / (i + 1)
            out[q] = total / len(rel)
    return out


def _random_case(seed: int = 0, n_queries: int = 40):
    rng = random.Random(seed)
    qrels = {f"q{i}": {f"d{j}": rng.choice([0, 1, 1, 2, 3]) for j in rng.sample(range(80), rng.randint(1, 8))}
             for i in range(n_queries)}
    run = {f"q{i}": {f"d{j}": rng.random() for j in rng.sample(range(80), rng.randint(5, 60))}
           for i in range(n_queries) if i % 7}  # every 7th query unanswered
    return qrels, run


def test_matches_independent_implementation():
    qrels, run = _random_case()
    metrics = default_metrics((1, 3, 5, 10, 100)) + ["map@7", "mrr@20"]
    ev = evaluate_run(qrels, run, metrics)
    for name in metrics:
        measure, k = parse_metric(name)
        ref = _reference(qrels, run, measure, k)
        assert set(ref) == set(ev.queries)
        for q, v in ref.items():
            assert ev.per_query[name][q] == pytest.approx(v, abs=1e-6), (name, q)
        assert ev.means[name] == pytest.approx(sum(ref.values()) / len(ref), abs=1e-6), name


@pytest.mark.skipif(not os.environ.get("EMBEDTUNE_RANX"), reason="ranx JIT-compiles for ~1-2 min; set EMBEDTUNE_RANX=1")
def test_matches_ranx():
    ranx = pytest.importorskip("ranx")
    qrels, run = _random_case(seed=1)
    metrics = ["ndcg@10", "ndcg@3", "recall@10", "recall@100", "precision@5", "mrr@10", "map@10", "map@100"]
    ours = evaluate_run(qrels, run, metrics).means
    scored = {q: d for q, d in qrels.items() if any(g > 0 for g in d.values())}
    theirs = ranx.evaluate(ranx.Qrels(scored), ranx.Run({q: run.get(q, {}) for q in scored}), metrics)
    for m in metrics:
        assert ours[m] == pytest.approx(theirs[m], abs=1e-6), m


def test_metric_names():
    assert parse_metrics("NDCG@10, recall@100,ndcg@10,P@5,mrr@10") == ["ndcg@10", "recall@100", "precision@5", "mrr@10"]
    assert default_metrics((1, 10))[:2] == ["ndcg@1", "ndcg@10"]
    assert len(default_metrics()) == 25
    for bad in ("ndcg", "ndcg@0", "ndcg@x", "bleu@10", "", "recall@-1"):
        with pytest.raises(EmbedtuneError, match="metric"):
            parse_metrics(bad)


def test_nothing_to_evaluate_is_an_error():
    with pytest.raises(EmbedtuneError, match="no query has a relevant document"):
        evaluate_run({"q": {"a": 0}}, {"q": {"a": 1.0}}, ["ndcg@10"])
