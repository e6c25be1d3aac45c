"""Base vs tuned at every dim, scored at document level over chunks (MaxP)."""

from __future__ import annotations

import json

from embedtune.evaluation.model_comparison import compare_base_and_tuned, comparison_html
from embedtune.retrieval import Document
from embedtune.samples import scifact_sample


def _chunked_sample(n_docs: int = 120):
    docs, chunk_docs = [], {}
    with open(scifact_sample() / "corpus.jsonl", encoding="utf-8") as f:
        for line, _ in zip(f, range(n_docs)):
            row = json.loads(line)
            words = row["text"].split()
            for i, start in enumerate(range(0, len(words), 60)):  # two or three chunks per abstract
                cid = f"{row['_id']}#{i}"
                docs.append(Document(cid, " ".join(words[start : start + 60]), row["title"]))
                chunk_docs[cid] = [row["_id"]]
    ids = sorted({d for ds in chunk_docs.values() for d in ds})
    titles = {d.id.split("#")[0]: d.title for d in docs}
    queries = {f"q{d}": titles[d] for d in ids[:40]}
    qrels = {f"q{d}": {d: 1} for d in ids[:40]}
    return docs, chunk_docs, queries, qrels


def test_identical_models_tie_at_every_dim_and_scores_are_per_document(tiny_model_dir, tmp_path):
    docs, chunk_docs, queries, qrels = _chunked_sample()
    result = compare_base_and_tuned(
        docs, queries, qrels, tiny_model_dir, tiny_model_dir, [32, 16], chunk_docs=chunk_docs,
        cache_dir=tmp_path / "cache",
    )
    systems = result.evaluation.systems
    assert list(systems) == ["dense:base@32", "dense:base@16", "dense:tuned@32", "dense:tuned@16", "bm25",
                             "hybrid:base", "hybrid:tuned"]
    run = systems["dense:base@32"].run
    assert all(set(r) <= set(qrels_doc for ds in chunk_docs.values() for qrels_doc in ds) for r in run.values())
    assert [r["delta"] for r in result.rows()] == [0.0, 0.0]
    assert not any(r["significant"] for r in result.rows())
    assert systems["bm25"].means["ndcg@10"] > 0.8  # titles find their own abstracts lexically
    assert result.small_vs_full is not None and result.small_vs_full.reference == "dense:base@32"
    per_query = json.loads(json.dumps(result.to_json()))["per_query_ndcg@10"]  # what eval_report.json keeps
    assert set(per_query) == set(systems) and set(per_query["bm25"]) == set(queries)
    assert per_query["hybrid:tuned"] == systems["hybrid:tuned"].evaluation.per_query["ndcg@10"]
    page = comparison_html(result).render()
    assert "Tuned vs base at each dimension" in page and "data:image/png;base64" in page
