"""The real all-MiniLM-L6-v2 on a slice of the bundled SciFact sample: scores land where a working pipeline lands."""

from __future__ import annotations

import pytest

from embedtune.evaluation import build_retrievers, evaluate_retrievers, load_beir
from embedtune.samples import scifact_sample


@pytest.mark.integration
def test_minilm_dense_bm25_and_hybrid_on_a_sample_slice(minilm_dir, tmp_path):
    data = load_beir(scifact_sample(), "test")
    qids = list(data.evaluable_queries)[:50]
    qrels = {q: data.qrels[q] for q in qids}
    wanted = {d for q in qids for d in qrels[q]}
    # The slice: every judged abstract of those 50 claims plus 100 distractors, so encoding takes seconds.
    docs = [d for d in data.corpus if d.id in wanted] + [d for d in data.corpus if d.id not in wanted][:100]

    retrievers = build_retrievers(minilm_dir, dims=[384, 64], bm25=True, hybrid=True, cache_dir=tmp_path)
    report = evaluate_retrievers(retrievers, docs, data.queries, qrels, ["ndcg@10", "recall@10"])
    ndcg = {name: s.means["ndcg@10"] for name, s in report.systems.items()}

    dense = ndcg["dense:model@384"]
    assert 0.6 < dense < 0.98, ndcg  # full SciFact gives 0.645; a ~160-doc slice is easier
    assert 0.6 < ndcg["bm25"] < 0.98, ndcg
    assert ndcg["dense:model@64"] < dense  # truncation to a sixth of the dimensions costs quality
    assert ndcg["hybrid:model"] > min(dense, ndcg["bm25"])
    assert report.n_queries == 50 and len(report.comparisons) == 3 * 2
