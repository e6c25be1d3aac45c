"""``embedtune mine`` end to end on a tiny workspace (tiny model): outputs, no-op rerun, round 2, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import embedtune.retrieval.embedding_cache as cache_mod
from embedtune.evaluation import load_beir
from embedtune.mining import MiningReport, load_triplets
from embedtune.samples import scifact_sample
from embedtune.workspace import Workspace


def write_workspace(root: Path, n_docs: int = 40) -> Path:
    """Two chunks per abstract; a query per abstract (its title) with both chunks as positives, every 3rd one
    with only the first chunk."""
    docs = load_beir(scifact_sample(), "test").corpus[:n_docs]
    chunks, pairs = [], []
    for i, d in enumerate(docs):
        half = len(d.text) // 2
        for c, (start, body) in enumerate([(0, d.text[:half]), (half, d.text[half:])]):
            chunks.append({"id": f"{d.id}-{c}", "doc_id": d.id, "title": d.title, "text": f"{d.title}\n{body}",
                           "source": f"{d.id}.txt", "start_char": start, "end_char": start + len(body),
                           "n_tokens": 50, "title_included": True})
        positives = [f"{d.id}-0"] if i % 3 == 0 else [f"{d.id}-0", f"{d.id}-1"]
        pairs.append({"query_id": f"q{i}", "query": d.title, "positive_ids": positives, "weight": 1.0,
                      "source": "title"})
    root.mkdir(parents=True, exist_ok=True)
    (root / "chunks.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chunks))
    (root / "train_pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    return root


@pytest.fixture
def encodings(monkeypatch) -> list[int]:
    """Texts per encode call, to see when the cache is used."""
    calls: list[int] = []
    real = cache_mod.encode_texts
    monkeypatch.setattr(cache_mod, "encode_texts", lambda m, t, *a, **k: calls.append(len(t)) or real(m, t, *a, **k))
    return calls


def test_mine_writes_triplets_report_html_and_reruns_as_a_no_op(cli, tmp_path, tiny_model_dir, encodings):
    ws = write_workspace(tmp_path / "ws")
    code, out, err = cli("mine", "--workspace", ws, "--model", tiny_model_dir, "--num-negatives", "3")
    assert code == 0, err
    assert "Mining" in out and "topk-percpos" in out and "wrote" in out
    pairs = [json.loads(line) for line in (ws / "train_pairs.jsonl").read_text().splitlines()]
    rows = [json.loads(line) for line in (ws / "train_triplets.jsonl").read_text().splitlines()]
    assert len(rows) == sum(len(p["positive_ids"]) for p in pairs)  # one row per (query, positive), none dropped
    positives = {p["query_id"]: set(p["positive_ids"]) for p in pairs}
    for r in rows:
        assert not positives[r["query_id"]] & set(r["negative_ids"])
        assert len(r["negatives"]) == len(r["negative_ids"]) == len(r["negative_scores"]) <= 3
        assert all(s < 0.95 * r["positive_score"] for s in r["negative_scores"]) or r["positive_score"] < 0
    report = MiningReport.load(ws / "mining_report.json")
    assert report.candidates_seen == sum(report.removed.values()) + report.survivors
    assert report.rows == len(rows) and report.calibration.queries_with_several_positives == 26
    assert report.histogram.counts["positive"] and report.cache_hit is False
    assert "<img" in (ws / "mining_report.html").read_text()
    assert [p.query for p in load_triplets(ws / "train_triplets.jsonl")] == [r["query"] for r in rows]
    assert Workspace(ws).stage_record("mine").status == "done"
    assert encodings == [80, 40]  # corpus, then queries

    encodings.clear()
    before = (ws / "train_triplets.jsonl").stat().st_mtime_ns
    code, out, err = cli("mine", "--workspace", ws, "--model", tiny_model_dir, "--num-negatives", "3")
    assert code == 0 and "mine is current" in err + out
    assert encodings == [] and (ws / "train_triplets.jsonl").stat().st_mtime_ns == before


def test_round_two_with_a_retrained_model_re_encodes(cli, tmp_path, tiny_model_dir, encodings):
    from sentence_transformers import SentenceTransformer
    import torch

    ws = write_workspace(tmp_path / "ws", n_docs=12)
    assert cli("mine", "-w", ws, "--model", tiny_model_dir)[0] == 0
    round1 = tmp_path / "runs" / "x" / "model"
    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    with torch.no_grad():
        next(model.parameters()).add_(0.01)  # stands in for a round of training
    model.save(str(round1))
    encodings.clear()
    code, _, err = cli("mine", "-w", ws, "--model", round1)
    assert code == 0, err
    assert encodings == [24, 12]  # a new model's content: the corpus is encoded again, not read from the cache
    assert len(list((ws / "cache" / "embeddings").glob("*.npy"))) == 2
    assert MiningReport.load(ws / "mining_report.json").model == str(round1)


def test_bm25_mode_and_beir_dataset_mode(cli, tmp_path):
    ws = write_workspace(tmp_path / "ws", n_docs=15)
    code, out, err = cli("mine", "-w", ws, "--bm25")
    assert code == 0, err
    report = MiningReport.load(ws / "mining_report.json")
    assert report.mode == "bm25" and report.model is None and any("BM25" in n for n in report.notes)

    out_ws = tmp_path / "beir"
    code, out, err = cli("mine", "-w", out_ws, "--bm25", "--dataset", scifact_sample(), "--split", "train",
                         "--num-negatives", "2")
    assert code == 0, err
    report = MiningReport.load(out_ws / "mining_report.json")
    assert report.source == "beir:scifact/train" and report.corpus == 1500 and report.rows > 0


def test_cross_encoder_relabel_from_a_saved_tiny_cross_encoder(cli, tmp_path, tiny_model_dir):
    from sentence_transformers import CrossEncoder

    ce_dir = tmp_path / "ce"
    CrossEncoder(str(tiny_model_dir.parent / "hf"), num_labels=1, device="cpu").save(str(ce_dir))
    ws = write_workspace(tmp_path / "ws", n_docs=9)
    # An absolute threshold below any score: the cross-encoder calls every candidate relevant.
    code, out, err = cli("mine", "-w", ws, "--model", tiny_model_dir, "--cross-encoder", ce_dir,
                         "--ce-threshold", "-1000", "--relabel", "--num-negatives", "2", "--no-percpos")
    assert code == 0, err
    report = MiningReport.load(ws / "mining_report.json")
    assert report.negatives == 0 and report.relabelled == report.ce_checked == report.survivors > 0
    rows = [json.loads(line) for line in (ws / "train_triplets.jsonl").read_text().splitlines()]
    assert all(r["relabelled_positive_ids"] and not r["negative_ids"] for r in rows)
    assert len(load_triplets(ws / "train_triplets.jsonl")) > len(rows)


def test_errors_are_one_line(cli, tmp_path, tiny_model_dir):
    ws = write_workspace(tmp_path / "ws", n_docs=6)
    (ws / "train_pairs.jsonl").unlink()
    code, _, err = cli("mine", "-w", ws, "--model", tiny_model_dir)
    assert code == 2 and "run `embedtune split` (or `embedtune run`) first" in err and "Traceback" not in err

    (ws / "train_pairs.jsonl").write_text("")
    code, _, err = cli("mine", "-w", ws, "--model", tiny_model_dir)
    assert code == 2 and "empty" in err

    write_workspace(ws, n_docs=6)
    code, _, err = cli("mine", "-w", ws, "--model", tmp_path / "no-such-model")
    assert code == 2 and "unknown model" in err and len(err.strip().splitlines()) == 1

    code, _, err = cli("mine", "-w", ws, "--model", tiny_model_dir, "--num-negatives", "41")
    assert code == 2 and "--num-negatives" in err

    (ws / "train_pairs.jsonl").write_text(json.dumps({"query_id": "q", "query": "x", "positive_ids": ["nope"]}) + "\n")
    code, _, err = cli("mine", "-w", ws, "--model", tiny_model_dir)
    assert code == 2 and "none of its 1 positive ids is a chunk id" in err
    shutil.rmtree(ws)


def test_a_pair_with_its_own_positive_text_trains_on_it_not_on_the_chunk(cli, tmp_path, tiny_model_dir):
    ws = write_workspace(tmp_path / "ws", n_docs=12)
    pairs = [json.loads(line) for line in (ws / "train_pairs.jsonl").read_text().splitlines()]
    pairs[0]["positive_text"] = "the passage without the sentence that became the query"
    (ws / "train_pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    code, _, err = cli("mine", "--workspace", ws, "--model", tiny_model_dir, "--num-negatives", "2")
    assert code == 0, err
    rows = [json.loads(line) for line in (ws / "train_triplets.jsonl").read_text().splitlines()]
    first = [r for r in rows if r["query_id"] == pairs[0]["query_id"]]
    assert [r["positive"] for r in first] == [pairs[0]["positive_text"]]
    assert all(r["positive"] != pairs[0]["positive_text"] for r in rows if r["query_id"] != pairs[0]["query_id"])
