"""``embedtune eval`` and ``embedtune baseline`` end to end (tiny model), and bad input as one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import embedtune.retrieval.embedding_cache as cache_mod
from embedtune.evaluation import load_beir
from embedtune.samples import scifact_sample


@pytest.fixture(scope="module")
def small_beir(tmp_path_factory) -> Path:
    """20 sample test queries, their relevant abstracts and 100 others: a BEIR folder that evaluates in seconds."""
    data = load_beir(scifact_sample(), "test")
    qids = list(data.evaluable_queries)[:20]
    wanted = {d for q in qids for d in data.qrels[q]}
    docs = [d for d in data.corpus if d.id in wanted] + [d for d in data.corpus if d.id not in wanted][:100]
    root = tmp_path_factory.mktemp("beir") / "mini"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d.id, "title": d.title, "text": d.text}) + "\n" for d in docs))
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": data.queries[q]}) + "\n" for q in qids))
    lines = [f"{q}\t{d}\t{g}" for q in qids for d, g in data.qrels[q].items()]
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(lines) + "\n")
    return root


def test_eval_writes_json_and_html_and_reuses_the_cache(cli, small_beir, tiny_model_dir, tmp_path, monkeypatch):
    encoded: list[int] = []
    real = cache_mod.encode_texts
    monkeypatch.setattr(cache_mod, "encode_texts", lambda m, t, *a, **k: encoded.append(len(t)) or real(m, t, *a, **k))
    args = ["eval", "--dataset", small_beir, "--model", tiny_model_dir, "--bm25", "--hybrid", "--dims", "32,16",
            "--workspace", tmp_path / "ws", "--json", tmp_path / "out.json", "--html", tmp_path / "out.html",
            "--per-query"]
    code, out, err = cli(*args)
    assert code == 0, err
    result = json.loads((tmp_path / "out.json").read_text())
    systems = ["dense:tiny-model@32", "dense:tiny-model@16", "bm25", "hybrid:tiny-model"]
    assert list(result["runs"]) == systems
    assert result["dataset"] == "mini" and result["split"] == "test" and result["n_queries"] == 20
    assert set(result["runs"]["bm25"]) == {f"{m}@{k}" for m in ("ndcg", "recall", "precision", "mrr", "map")
                                           for k in (1, 3, 5, 10, 100)}
    assert {(c["system"], c["metric"]) for c in result["comparisons"]} == {
        (s, m) for s in systems[1:] for m in ("ndcg@10", "recall@10", "recall@100", "mrr@10")}
    assert all(0 <= c["p_randomization"] <= 1 for c in result["comparisons"])
    assert len(result["per_query"]["bm25"]["ndcg@10"]) == 20
    assert "mini (test): 20 queries" in out and "reference" in out  # the rich table
    html = (tmp_path / "out.html").read_text()
    assert "Metric by embedding dimension" in html
    assert html.count("data:image/png;base64") == 5  # bars, dimension curve, 3 win/loss histograms
    assert len(list((tmp_path / "ws" / "cache" / "embeddings").glob("*.npy"))) == 1
    encoded_docs = encoded[0]

    code, out, err = cli("eval", "--dataset", small_beir, "--model", tiny_model_dir, "--workspace", tmp_path / "ws",
                         "--metrics", "ndcg@10,recall@100", "--json", tmp_path / "again.json")
    assert code == 0, err
    assert encoded.count(encoded_docs) == 1  # second eval: queries encoded again, the corpus read from the cache
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["runs"]["dense:tiny-model@32"] == {m: result["runs"]["dense:tiny-model@32"][m]
                                                    for m in ("ndcg@10", "recall@100")}


def test_baseline_writes_verdict_report_and_skips_when_current(cli, small_beir, tiny_model_dir, tmp_path):
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    CrossEncoder(str(tiny_model_dir), num_labels=1, device="cpu").save(str(tmp_path / "ce"))
    ws = tmp_path / "ws"
    args = ["baseline", "--dataset", small_beir, "--model", tiny_model_dir, "--rerank", tmp_path / "ce",
            "--rerank-top", "5", "--workspace", ws]
    code, out, err = cli(*args)
    assert code == 0, err
    report = json.loads((ws / "baseline.json").read_text())
    assert report["verdict"]["label"] in {"likely", "possible", "unlikely"}
    assert report["verdict"]["headline"] in out
    assert list(report["evaluation"]["runs"]) == ["dense:tiny-model@32", "bm25", "hybrid:tiny-model",
                                                  "rerank:ce>dense:tiny-model@32"]
    shares = report["outcomes"]["dense:tiny-model@32"]
    assert sum(shares.values()) == pytest.approx(1.0)
    n_failed = round((shares["ranking_failure"] + shares["retrieval_failure"]) * 20)
    assert len(report["failures"]) == n_failed > 0  # a random tiny model fails plenty
    failure = report["failures"][0]
    assert {"query", "kind", "first_relevant_rank", "gold", "retrieved", "found_by"} <= set(failure)
    assert failure["gold"] and failure["retrieved"][0]["text"]
    assert 0 < report["ranking_ceiling"]["ndcg@10"] <= 1
    html = (ws / "baseline.html").read_text()
    assert "<h2>Verdict</h2>" in html and "Where queries fail" in html and "Failed queries of" in html
    manifest = json.loads((ws / "manifest.json").read_text())
    assert manifest["stages"]["baseline"]["status"] == "done"

    code, out, _ = cli(*args)
    assert code == 0 and "baseline is current" in out


def _bad(root: Path, what: str) -> Path:
    if what == "no-queries":
        (root / "queries.jsonl").unlink()
    elif what == "dangling-qrels":
        (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tnot-a-doc\t1\n")
    elif what == "empty-split":
        (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    return root


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        ("no-queries", [], "queries.jsonl: missing"),
        ("dangling-qrels", [], "none of its 1 judgments points at a document"),
        ("empty-split", [], "has no judgments"),
        ("ok", ["--split", "dev"], "no qrels for split 'dev'"),
        ("ok", ["--model", "no-such-model"], "unknown model 'no-such-model'"),
        ("ok", ["--metrics", "ndcg@10,bleu@4"], "unknown metric 'bleu@4'"),
        ("ok", ["--dims", "384,abc"], "--dims must be comma-separated integers"),
        ("ok", ["--model", "{tiny}", "--dims", "64"], "dimension 64 is out of range"),
        ("ok", ["--rerank", "no/such-reranker"], "a cross-encoder is the registry"),
        ("ok", ["--no-dense"], "no system selected"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, small_beir, tiny_model_dir, case, extra, message):
    import shutil

    root = _bad(Path(shutil.copytree(small_beir, tmp_path / "data")), case)
    args = [a.replace("{tiny}", str(tiny_model_dir)) for a in extra]
    code, out, err = cli("eval", "--dataset", root, "--workspace", tmp_path / "ws", *args)
    assert code == 2, (out, err)
    assert message in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1, err


def test_partially_dangling_qrels_warn_with_a_count(cli, tmp_path, small_beir):
    import shutil

    root = Path(shutil.copytree(small_beir, tmp_path / "data"))
    with open(root / "qrels" / "test.tsv", "a") as f:
        f.write(f"{next(iter(load_beir(small_beir).queries))}\tghost-doc\t1\n")
    code, out, err = cli("eval", "--dataset", root, "--no-dense", "--bm25", "--metrics", "ndcg@10")
    assert code == 0 and "dropped 1 of" in err and "ghost" not in out
