"""Training: the loss variants run, Matryoshka prefixes work, LoRA merges to a plain model, resume continues."""

from __future__ import annotations


import numpy as np
import pytest

from embedtune.training import EvalSplit, TrainConfig, TrainPair, to_dataset, train_model
from embedtune.training.config import TrainConfig as Cfg

from conftest import sample_texts


@pytest.fixture(scope="module")
def pairs() -> list[TrainPair]:
    """Title -> rest-of-abstract pairs from real SciFact text, with the next abstract as a negative."""
    texts = sample_texts(96)
    return [
        TrainPair(query=t.split(".")[0], positive=t, negatives=(texts[(i + 1) % len(texts)],))
        for i, t in enumerate(texts)
    ]


@pytest.fixture(scope="module")
def split(pairs) -> EvalSplit:
    corpus = {f"d{i}": p.positive for i, p in enumerate(pairs)}
    return EvalSplit({f"q{i}": p.query for i, p in enumerate(pairs[:24])}, corpus, {f"q{i}": {f"d{i}"} for i in range(24)})


def test_matryoshka_dims_default_to_halving_down_to_64():
    assert Cfg().resolved_dims(384) == [384, 192, 96]
    assert Cfg(matryoshka_dims=[64, 128, 256, 384]).resolved_dims(384) == [384, 256, 128, 64]
    assert Cfg(matryoshka_dims=[]).resolved_dims(384) == []


def test_rows_short_of_negatives_are_topped_up_not_dropped(pairs):
    rows = [TrainPair("q", "p"), pairs[0]]
    ds = to_dataset(rows, n_negatives=2, pool=["p", "x", "y", "z"])
    assert ds.num_rows == 2 and ds.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    assert "p" not in (ds[0]["negative_1"], ds[0]["negative_2"])
    with pytest.raises(ValueError, match="pool is too small"):
        to_dataset(rows, n_negatives=3, pool=["p", "x"])


@pytest.mark.parametrize("loss", ["mnrl", "cached-mnrl", "gist", "triplet"])
def test_each_loss_trains_and_saves_a_loadable_model(tmp_path, tiny_model_dir, pairs, loss):
    from sentence_transformers import SentenceTransformer

    cfg = TrainConfig(loss=loss, batch_size=16, mini_batch_size=8, epochs=1, matryoshka_dims=[32, 16], learning_rate=1e-3)
    result = train_model(tiny_model_dir, pairs, tmp_path / "out", cfg)
    assert result.steps == 6 and result.train_rows == len(pairs)
    tuned = SentenceTransformer(str(result.model_dir), device="cpu")
    base = SentenceTransformer(str(tiny_model_dir), device="cpu")
    text = [pairs[0].query]
    assert not np.allclose(tuned.encode(text), base.encode(text))  # weights moved


def test_full_dim_negatives_drop_hard_negatives_below_the_full_dim(tiny_model_dir, pairs):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    from embedtune.training.losses import build_loss

    model = SentenceTransformer(str(tiny_model_dir), device="cpu").eval()  # no dropout: exact comparisons
    rows = pairs[:8]
    columns = [[r.query for r in rows], [r.positive for r in rows], [r.negatives[0] for r in rows]]

    def features():
        return [model.tokenize(texts) for texts in columns]

    cfg = TrainConfig(matryoshka_dims=[16], matryoshka_negatives="full-dim")
    loss = build_loss(model, cfg)
    mnrl = MultipleNegativesRankingLoss(model)
    with torch.no_grad():
        got = loss(features(), None)
        full = MatryoshkaLoss(model, mnrl, matryoshka_dims=[32])(features(), None)
        small_in_batch = MatryoshkaLoss(model, mnrl, matryoshka_dims=[16])(features()[:2], None)
        small_with_negatives = MatryoshkaLoss(model, mnrl, matryoshka_dims=[16])(features(), None)
        every_dim = build_loss(model, cfg.model_copy(update={"matryoshka_negatives": "all-dims"}))(features(), None)
    assert float(got) == pytest.approx(float(full + small_in_batch), rel=1e-5)
    assert float(every_dim) == pytest.approx(float(full + small_with_negatives), rel=1e-5)
    assert float(small_in_batch) != pytest.approx(float(small_with_negatives), rel=1e-3)


def test_self_distill_adds_the_full_dims_ranking_below_the_full_dim(tmp_path, tiny_model_dir, pairs):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    from embedtune.training.losses import build_loss
    from embedtune.training.matryoshka_self_distillation import ranking_kl

    model = SentenceTransformer(str(tiny_model_dir), device="cpu").eval()
    rows = pairs[:8]
    columns = [[r.query for r in rows], [r.positive for r in rows], [r.negatives[0] for r in rows]]

    def features():
        return [model.tokenize(texts) for texts in columns]

    cfg = TrainConfig(matryoshka_dims=[16], matryoshka_negatives="self-distill")
    mnrl = MultipleNegativesRankingLoss(model)
    with torch.no_grad():
        got = build_loss(model, cfg)(features(), None)
        full = MatryoshkaLoss(model, mnrl, matryoshka_dims=[32])(features(), None)
        small_in_batch = MatryoshkaLoss(model, mnrl, matryoshka_dims=[16])(features()[:2], None)
        emb = [torch.nn.functional.normalize(model.encode(c, convert_to_tensor=True), dim=-1) for c in columns]
        cut = [torch.nn.functional.normalize(e[:, :16], dim=-1) for e in emb]
        # KL by hand: each query's softmax over the 16 candidates, full dim as the target
        p = torch.softmax(20 * emb[0] @ torch.cat(emb[1:]).T, -1)
        q = torch.softmax(20 * cut[0] @ torch.cat(cut[1:]).T, -1)
        kl = (p * (p.log() - q.log())).sum(-1).mean()
    assert float(kl) > 1e-4  # the prefix ranks differently, so the term is live
    assert float(got) == pytest.approx(float(full + small_in_batch + kl), rel=1e-4)
    # the full dim is the teacher, not trained by this term
    teacher = [e.clone().requires_grad_() for e in emb]
    student = [e.clone().requires_grad_() for e in cut]
    ranking_kl(teacher, student, 20.0).backward()
    assert teacher[0].grad is None and student[0].grad is not None
    result = train_model(tiny_model_dir, pairs, tmp_path / "out", cfg.model_copy(update={"batch_size": 16}))
    assert result.steps == 6 and SentenceTransformer(str(result.model_dir), device="cpu").encode(["x"]).shape == (1, 32)


def test_bf16_training_runs_on_a_cpu_and_saves_fp32_weights(tmp_path, tiny_model_dir, pairs):
    import torch
    from sentence_transformers import SentenceTransformer

    cfg = TrainConfig(batch_size=16, epochs=1, matryoshka_dims=[], learning_rate=1e-3, bf16=True)
    result = train_model(tiny_model_dir, pairs, tmp_path / "out", cfg)
    assert result.steps == 6
    tuned = SentenceTransformer(str(result.model_dir), device="cpu")
    assert {p.dtype for p in tuned.parameters()} == {torch.float32}  # autocast: the master weights stay fp32
    base = SentenceTransformer(str(tiny_model_dir), device="cpu")
    assert not np.allclose(tuned.encode([pairs[0].query]), base.encode([pairs[0].query]))


def test_eval_keeps_best_checkpoint_and_reports_every_dim(tmp_path, tiny_model_dir, pairs, split):
    cfg = TrainConfig(batch_size=16, epochs=2, matryoshka_dims=[32, 16], learning_rate=1e-3, eval_every_steps=3)
    result = train_model(tiny_model_dir, pairs, tmp_path / "out", cfg, eval_split=split)
    assert result.dims == [32, 16]
    keys = set().union(*result.history)
    assert {"eval_dim32_cosine_ndcg@10", "eval_dim16_cosine_ndcg@10"} <= keys
    best = max(h["eval_dim32_cosine_ndcg@10"] for h in result.history if "eval_dim32_cosine_ndcg@10" in h)
    assert result.best_metric == pytest.approx(best)


def test_lora_trains_adapters_and_saves_a_merged_plain_model(tmp_path, tiny_model_dir, pairs):
    from sentence_transformers import SentenceTransformer

    cfg = TrainConfig(lora=True, lora_r=4, batch_size=16, epochs=1, matryoshka_dims=[])
    result = train_model(tiny_model_dir, pairs, tmp_path / "out", cfg)
    files = {p.name for p in result.model_dir.rglob("*")}
    assert "adapter_config.json" not in files  # merged: loads without peft or the base model
    tuned = SentenceTransformer(str(result.model_dir), device="cpu")
    base = SentenceTransformer(str(tiny_model_dir), device="cpu")
    assert not np.allclose(tuned.encode(["x y"]), base.encode(["x y"]))
    assert sum(p.numel() for p in tuned.parameters()) == sum(p.numel() for p in base.parameters())


def test_interrupted_training_resumes_from_last_checkpoint(tmp_path, tiny_model_dir, pairs, monkeypatch):
    import sentence_transformers.sentence_transformer as st
    from transformers import TrainerCallback

    trained_steps: list[int] = []

    class KillAtThreeAndRecord(TrainerCallback):
        def __init__(self, kill: bool) -> None:
            self.kill = kill

        def on_step_end(self, args, state, control, **kw):
            trained_steps.append(state.global_step)

        def on_save(self, args, state, control, **kw):
            if self.kill and state.global_step == 3:
                raise KeyboardInterrupt

    original = st.SentenceTransformerTrainer.__init__

    def patched(kill: bool):
        def init(self, *a, **kw):
            original(self, *a, **kw)
            self.add_callback(KillAtThreeAndRecord(kill))

        return init

    cfg = TrainConfig(batch_size=16, epochs=1, matryoshka_dims=[], eval_every_steps=3)
    monkeypatch.setattr(st.SentenceTransformerTrainer, "__init__", patched(True))
    with pytest.raises(KeyboardInterrupt):
        train_model(tiny_model_dir, pairs, tmp_path / "out", cfg)
    assert trained_steps == [1, 2, 3]
    assert (tmp_path / "out" / "checkpoints" / "checkpoint-3").exists()

    trained_steps.clear()
    monkeypatch.setattr(st.SentenceTransformerTrainer, "__init__", patched(False))
    result = train_model(tiny_model_dir, pairs, tmp_path / "out", cfg)
    assert result.steps == 6 and trained_steps == [4, 5, 6]  # steps 1-3 were not trained again


def test_model_card_records_base_data_loss_and_comparison(tmp_path):
    from embedtune.training.model_card import write_model_card

    cfg = TrainConfig(loss="cached-mnrl")
    path = write_model_card(
        tmp_path, "all-MiniLM-L6-v2", cfg, {"training pairs": 812, "negatives per pair": 3}, [384, 192, 96],
        [{"dim": 384, "base ndcg@10": 0.6451, "tuned ndcg@10": 0.6875, "p-value": 0.003}],
    )
    card = path.read_text()
    assert "base_model: all-MiniLM-L6-v2" in card and "| training pairs | 812 |" in card
    assert "`cached-mnrl` wrapped in MatryoshkaLoss" in card and "| learning_rate | 2e-05 |" in card
    assert "| 384 | 0.6451 | 0.6875 | 0.0030 |" in card


@pytest.mark.parametrize("bad", [
    {"batch_size": 0}, {"epochs": -1}, {"epochs": 0}, {"learning_rate": -0.5}, {"max_seq_length": 0},
    {"matryoshka_dims": [0, -4]}, {"epochz": 2},
])
def test_impossible_training_settings_are_refused_up_front(bad):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Cfg(**bad)


def test_matryoshka_dims_beyond_the_model_are_an_error_not_silently_dropped():
    from embedtune.errors import EmbedtuneError

    with pytest.raises(EmbedtuneError, match="exceed the model's 384"):
        Cfg(matryoshka_dims=[100000, 96]).resolved_dims(384)


def test_a_resume_never_continues_checkpoints_of_other_training_data(tmp_path, tiny_model_dir):
    """Issue 20 D1: the same settings on changed inputs train anew instead of resuming the old run's checkpoints."""
    import json as _json

    from test_mining_cli import write_workspace

    from embedtune.training.stage import train_stage

    root = write_workspace(tmp_path / "ws", n_docs=20)
    cfg = TrainConfig(batch_size=8, epochs=1, matryoshka_dims=[], learning_rate=1e-3)
    first = train_stage(root, str(tiny_model_dir), cfg, triplets=False)
    weights = (first.model_dir / "model.safetensors").read_bytes()
    pairs = [_json.loads(line) for line in (root / "train_pairs.jsonl").read_text().splitlines()]
    pairs = [dict(p, query=p["query"] + " (revised)") for p in pairs]  # changed training data, same row count
    (root / "train_pairs.jsonl").write_text("".join(_json.dumps(p) + "\n" for p in pairs))
    second = train_stage(root, str(tiny_model_dir), cfg, triplets=False)
    # Resuming the old run's final checkpoint would train 0 steps and hand back the old weights.
    assert second is not None and (second.model_dir / "model.safetensors").read_bytes() != weights


def test_an_incomplete_checkpoint_is_skipped_and_the_last_complete_one_resumes(tmp_path, tiny_model_dir, pairs):
    """Issue 20 D2: a kill during a checkpoint save leaves a folder without weights; resume must not choke on it."""
    from embedtune.training.train import last_complete_checkpoint

    cfg = TrainConfig(batch_size=16, epochs=1, matryoshka_dims=[], eval_every_steps=3)
    out = tmp_path / "out"
    train_model(tiny_model_dir, pairs[:48], out, cfg)
    ckpts = out / "checkpoints"
    complete = last_complete_checkpoint(ckpts)
    assert complete is not None
    broken = ckpts / "checkpoint-99"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    (broken / "model.safetensors.tmp").write_bytes(b"\0" * 1024)
    assert last_complete_checkpoint(ckpts) == complete and not broken.exists()
    result = train_model(tiny_model_dir, pairs[:48], out, cfg)  # resumes from the complete one, no OSError
    assert result.steps == 3
