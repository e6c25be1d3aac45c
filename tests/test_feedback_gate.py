"""The promotion gate: held-out feedback labelled by debiased clicks, and a real regression still refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import sample_texts

from embedtune.feedback.gate import compare_models, feedback_heldout, gate
from embedtune.feedback.ipw import fit_noise_floor
from embedtune.feedback.propensity import Propensity
from embedtune.feedback.retrain_config import GateConfig
from embedtune.feedback.simulate import Users, power_curve, simulate_log
from embedtune.retrieval.base import Document

TRUE = Propensity(power_curve(10), "true", np.zeros(10), np.zeros(10))


def world(n_docs: int, searches: int, seed: int = 0):
    """Docs, and a log whose shown lists hold the relevant doc at a random rank among 9 random others."""
    texts = sample_texts(n_docs)
    docs = [Document(f"d{i}#0", t) for i, t in enumerate(texts)]
    rng = np.random.default_rng(seed)
    rankings, relevant, queries = {}, {}, {}
    for i, t in enumerate(texts):
        shown = [f"d{j}#0" for j in rng.choice([j for j in range(n_docs) if j != i], 9, replace=False)]
        shown.insert(int(rng.integers(10)), f"d{i}#0")
        parts = [p.strip() for p in t.split(".") if len(p.strip()) > 20]
        rankings[f"q{i}"], relevant[f"q{i}"], queries[f"q{i}"] = shown, {f"d{i}#0"}, parts[-1] if parts else t[:80]
    log = simulate_log(rankings, relevant, Users(power_curve(10)), searches, queries=queries, explore_rate=0.3,
                       seed=seed)
    return docs, log, relevant, queries


def test_heldout_labels_are_the_relevant_results_not_everything_clicked() -> None:
    docs, log, relevant, queries = world(40, 400)
    clicked = {(r.query, c.id) for r in log for c in r.clicks}
    assert len(clicked) > 5 * len(queries)  # raw clicks: noise reaches most of each shown list
    held = feedback_heldout(log, docs, TRUE, fit_noise_floor(log, TRUE))
    text_to_qid = {t: q for q, t in queries.items()}
    labels = {text_to_qid[held.queries[q]]: set(rel) for q, rel in held.qrels.items()}
    assert labels == relevant


def degrade(model_dir: Path, out: Path) -> str:
    """Every word embeds the same: the model can no longer tell texts apart."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    with torch.no_grad():
        model[0].auto_model.embeddings.word_embeddings.weight.fill_(0.1)
    model.save(str(out))
    return str(out)


def test_the_gate_refuses_a_candidate_that_regresses_on_feedback(tmp_path, tiny_model_dir) -> None:
    docs, log, _, _ = world(60, 30, seed=1)
    held = feedback_heldout(log, docs, TRUE, fit_noise_floor(log, TRUE))
    assert len(held.queries) >= 50
    current = str(tiny_model_dir)
    worse = compare_models(current, degrade(tiny_model_dir, tmp_path / "worse"), held, "ndcg@10", tmp_path)
    ok, reasons = gate({"feedback": worse}, GateConfig())
    assert worse.delta < 0 and not ok and reasons[0].startswith("REGRESSION feedback")
    same = compare_models(current, current, held, "ndcg@10", tmp_path)
    assert same.delta == pytest.approx(0.0) and gate({"feedback": same}, GateConfig())[0]
    assert not gate({"feedback": None, "golden": None}, GateConfig())[0]  # nothing evaluated: never promoted
