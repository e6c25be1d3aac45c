"""`embedtune retrain`: a round in retrain-<n>/, recorded in retrain_history.json, refused when it regresses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import sample_texts

from embedtune.feedback.history import load_history
from embedtune.feedback.ipw import click_pairs, fit_noise_floor
from embedtune.feedback.propensity import cells_of
from embedtune.feedback.retrain import retrain, split_feedback
from embedtune.feedback.retrain_config import RetrainConfig
from embedtune.feedback.simulate import Users, power_curve, simulate_log
from embedtune.workspace import write_jsonl

N_DOCS = 120


def first(text: str, n: int = 0) -> str:
    parts = [p.strip() for p in text.split(".") if len(p.strip()) > 20]
    return parts[min(n, len(parts) - 1)] if parts else text[:80]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> tuple[Path, Path]:
    """Chunks, synthetic train pairs, a golden eval set, and a simulated feedback log over those chunks."""
    root = tmp_path_factory.mktemp("retrain") / "ws"
    texts = sample_texts(N_DOCS)
    write_jsonl(root / "chunks.jsonl", [
        {"id": f"d{i}#0", "doc_id": f"d{i}", "text": t, "source": "test", "start_char": 0, "end_char": len(t),
         "n_tokens": 0} for i, t in enumerate(texts)])
    write_jsonl(root / "train_pairs.jsonl", [
        {"query_id": f"s{i}", "query": first(t), "positive_ids": [f"d{i}#0"], "weight": 1.0, "source": "title"}
        for i, t in enumerate(texts[:80])])
    write_jsonl(root / "eval" / "queries.jsonl", [{"_id": f"g{i}", "text": first(texts[i], 2)} for i in range(80, N_DOCS)])
    (root / "eval" / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"g{i}\td{i}\t1\n" for i in range(80, N_DOCS)))
    rng = np.random.default_rng(0)
    rankings, relevant, queries = {}, {}, {}
    for i in range(N_DOCS):
        others = [f"d{j}#0" for j in rng.choice([j for j in range(N_DOCS) if j != i], 9, replace=False)]
        others.insert(int(rng.integers(10)), f"d{i}#0")
        rankings[f"f{i}"], relevant[f"f{i}"], queries[f"f{i}"] = others, {f"d{i}#0"}, first(texts[i], 1)
    log = root.parent / "feedback.jsonl"
    records = simulate_log(rankings, relevant, Users(power_curve(10)), 12, queries=queries, explore_rate=0.3)
    log.write_text("".join(r.to_line() for r in records))
    return root, log


def config(**kw) -> RetrainConfig:
    return RetrainConfig.model_validate({
        "train": {"max_rows": 64, "batch_size": 16, "learning_rate": 5e-4, "matryoshka_dims": []},
        "mining": {"num_negatives": 1, "range_max": 20}, **kw})


def test_holdout_splits_never_share_a_query(workspace) -> None:
    from embedtune.feedback import read_log
    from embedtune.feedback.propensity import query_key

    records = read_log(workspace[1])
    for mode in ("hash", "time"):
        train, held = split_feedback(records, config(holdout=mode))
        assert held and not {query_key(r.query) for r in train} & {query_key(r.query) for r in held}


def degrade(round_ws, base_model, *args, **kwargs):
    """Stand-in trainer: every word embeds the same, so the 'trained' model cannot tell texts apart."""
    import torch
    from sentence_transformers import SentenceTransformer

    from embedtune.training.stage import trained_model_dir

    model = SentenceTransformer(str(base_model), device="cpu")
    with torch.no_grad():
        model[0].auto_model.embeddings.word_embeddings.weight.fill_(0.1)
    model.save(str(trained_model_dir(round_ws)))


def test_gate_refuses_a_regressing_model(tmp_path, workspace, tiny_model_dir, monkeypatch) -> None:
    import shutil

    from embedtune.feedback import ipw, read_log
    from embedtune.feedback import retrain as retrain_module
    from embedtune.training import stage

    ws = tmp_path / "ws"
    shutil.copytree(workspace[0], ws)
    monkeypatch.setattr(stage, "train_stage", degrade)
    built, pairs = [], []  # the number of searches each cells build was over; the round's click pairs

    def counted_cells(records, *args):
        built.append(len(records))
        return cells_of(records, *args)

    def kept_pairs(*args, **kwargs):
        pairs.extend(click_pairs(*args, **kwargs))
        return pairs

    monkeypatch.setattr(ipw, "cells_of", counted_cells)
    monkeypatch.setattr(retrain_module, "click_pairs", kept_pairs)
    cfg = config()
    result = retrain(ws, workspace[1], cfg, model=str(tiny_model_dir))
    train, held = split_feedback(read_log(workspace[1]), cfg)
    assert sorted(built) == sorted([len(train), len(held)])  # one build of the training cells: floor and weights
    # The shared build gives what the standalone functions give, each building its own cells.
    assert result.record.pairs["noise_floor"] == fit_noise_floor(train, result.propensity, cfg.min_dwell_s).to_json()
    alone = click_pairs(train, result.propensity, clip=cfg.clip, min_dwell_s=cfg.min_dwell_s)
    assert pairs and [(p.query, p.doc_id, p.weight) for p in pairs] == [(p.query, p.doc_id, p.weight) for p in alone]
    rec = result.record
    assert not rec.promoted and any(r.startswith("REGRESSION golden") for r in rec.reasons)
    assert result.comparisons["golden"].delta < 0
    history = load_history(ws)
    assert history.current_model == str(tiny_model_dir) and history.rounds[0].round == 1
    assert (ws / "retrain-1" / "train_triplets.jsonl").exists() and (ws / "retrain-1" / "mine" / "manifest.json").exists()


def test_a_real_round_is_recorded_and_shown(tmp_path, workspace, tiny_model_dir, cli) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(workspace[0], ws)
    cfg_path = tmp_path / "embedtune.yaml"
    cfg_path.write_text("retrain:\n" + "".join(f"  {line}\n" for line in json.dumps(config().model_dump(
        include={"train", "mining"}, exclude_none=True)).splitlines()))
    code, out, err = cli("retrain", "--workspace", ws, "--feedback", workspace[1], "--config", cfg_path,
                         "--model", tiny_model_dir)
    assert code == 0, out + err
    rec = load_history(ws).rounds[0]
    assert rec.propensity["method"] == "em" and rec.propensity["propensity"][0] == 1.0
    assert rec.pairs["feedback_rows"] + rec.pairs["synthetic_rows"] == 64 and rec.pairs["synthetic_rows"] > 0
    assert rec.metrics["golden"]["n_queries"] == N_DOCS - 80 and rec.metrics["feedback"]["n_queries"] >= 10
    assert ("PROMOTED" in out) == rec.promoted
    rows = [json.loads(line) for line in (ws / "retrain-1" / "train_triplets.jsonl").read_text().splitlines()]
    assert any(r["query_id"].startswith("fb-") for r in rows) and any(r["query_id"].startswith("s") for r in rows)
    code, out, _ = cli("history", "--workspace", ws)
    assert code == 0 and "Retraining rounds" in out and "position bias (em)" in out
