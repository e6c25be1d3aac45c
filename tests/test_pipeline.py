"""`embedtune run` end to end on a tiny model and a small real corpus: report, resume after a kill, no-op rerun."""

from __future__ import annotations

import json

import pytest

from embedtune.pipeline import RunConfig, default_config_yaml, load_run_config, run_pipeline
from embedtune.samples import scifact_sample

N_DOCS = 80


@pytest.fixture(scope="module")
def small_beir(tmp_path_factory):
    """80 SciFact abstracts with their real queries: enough for every stage to have work."""
    src = scifact_sample()
    out = tmp_path_factory.mktemp("small") / "scifact-small"
    (out / "qrels").mkdir(parents=True)
    lines = (src / "corpus.jsonl").read_text().splitlines()
    test_qrels = [r.split("\t") for r in (src / "qrels" / "test.tsv").read_text().splitlines()[1:]]
    judged = {d for _, d, _ in test_qrels}
    docs = [l for l in lines if json.loads(l)["_id"] in judged][: N_DOCS // 2]
    docs += [l for l in lines if json.loads(l)["_id"] not in judged][: N_DOCS - len(docs)]
    ids = {json.loads(l)["_id"] for l in docs}
    (out / "corpus.jsonl").write_text("\n".join(docs) + "\n")
    kept = [r for r in test_qrels if r[1] in ids]
    (out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join("\t".join(r) + "\n" for r in kept))
    qids = {r[0] for r in kept}
    queries = [l for l in (src / "queries.jsonl").read_text().splitlines() if json.loads(l)["_id"] in qids]
    (out / "queries.jsonl").write_text("\n".join(queries) + "\n")
    return out


def _config(beir, model) -> RunConfig:
    cfg = RunConfig.model_validate({
        "corpus": [str(beir)],
        "base_model": str(model),
        "inference": "torch",  # exact fp32 vectors whatever this CPU's auto backend is
        "eval": {"dataset": str(beir), "split": "test"},
        "generate": {"backend": "none", "filters": {"encoder": None}},
        "mining": {"num_negatives": 2},
        "teach": {"teacher": "fusion", "dense": "base", "max_rows": 96, "dev_queries": 10},
        "train": {"max_rows": 96, "batch_size": 16, "learning_rate": 5e-4, "matryoshka_dims": [32, 16]},
        "gate": {"alphas": [0.5, 1.0], "ood_max_queries": 20, "ood_max_docs": 100},
        "report": {"hybrid": False, "rerank": None},
    })
    return cfg


# manifest stage name -> the function of embedtune.pipeline.stages that runs it
STAGES = {"ingest": "ingest", "generate": "generate", "split": "split", "chunk-baseline": "baseline", "mine": "mine",
          "teach": "teach", "train": "train", "gate": "gate", "evaluate": "evaluate"}


def test_full_run_resume_after_a_kill_at_each_stage_and_a_rerun_that_does_no_work(
        tmp_path, small_beir, tiny_model_dir, monkeypatch):
    import embedtune.pipeline.stages as stages

    cfg = _config(small_beir, tiny_model_dir)
    ws = tmp_path / "ws"
    finished: dict[str, str] = {}
    for stage, function in STAGES.items():  # each run dies in the next stage; the ones before it must not run again
        original = getattr(stages, function)

        def killed(*a, **kw):
            raise KeyboardInterrupt

        monkeypatch.setattr(stages, function, killed)
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(cfg, ws)
        monkeypatch.setattr(stages, function, original)
        path = ws / "manifest.json"
        manifest = json.loads(path.read_text())["stages"] if path.exists() else {}
        for done, at in finished.items():
            assert manifest[done]["finished_at"] == at, f"{done} ran again after a kill in {stage}"
        finished = {name: rec["finished_at"] for name, rec in manifest.items() if rec["status"] == "done"}

    result = run_pipeline(cfg, ws)
    manifest = json.loads((ws / "manifest.json").read_text())["stages"]
    assert all(manifest[s]["status"] == "done" for s in STAGES)
    assert all(manifest[s]["finished_at"] == at for s, at in finished.items())

    gate = json.loads((ws / "gate" / "gate.json").read_text())
    assert gate["delivered"] in ("tuned", "merged", "base") and result.exit_code == (3 if gate["delivered"] == "base" else 0)
    assert result.delivered_base == (gate["delivered"] == "base")
    report = json.loads((ws / "eval_report.json").read_text())
    assert [row["dim"] for row in report["tuned_vs_base"]] == [32, 16]
    assert {"dense:base@32", "dense:tuned@16", "bm25"} <= set(report["runs"])
    page = result.report_html.read_text()
    assert "Tuned vs base" in page
    assert "Gate: what was delivered" in page and "alpha curve" in page  # why this model, beside its numbers
    assert "Teacher" in page and "fusion" in page and "dev NDCG@10" in page
    card = (result.model_dir / "README.md").read_text()
    assert "## Before / after" in card and "| 32 |" in card

    from sentence_transformers import SentenceTransformer

    tuned = SentenceTransformer(str(result.model_dir), device="cpu", truncate_dim=16)
    vec = tuned.encode(["a claim about cells"])
    assert vec.shape == (1, 16)

    assert [r.reused for r in result.stages.values()] == [True] * 8 + [False]  # only evaluate was left to do
    assert result.stages["evaluate"].outputs == ["eval_report.json", "report.html"]

    # A rerun of the finished run does no stage work: every stage is current, nothing is encoded or trained.
    import sentence_transformers
    import embedtune.training.stage as training_stage

    encoded: list[int] = []
    real_encode = sentence_transformers.SentenceTransformer.encode

    def counted(self, *a, **kw):
        encoded.append(1)
        return real_encode(self, *a, **kw)

    monkeypatch.setattr(sentence_transformers.SentenceTransformer, "encode", counted)
    monkeypatch.setattr(training_stage, "train_model", lambda *a, **kw: pytest.fail("trained on a rerun"))
    weights = next(result.model_dir.glob("*.safetensors")).stat().st_mtime_ns
    report_bytes = (ws / "eval_report.json").read_bytes()
    again = run_pipeline(cfg, ws)
    assert list(again.stages) == ["ingest", "generate", "split", "baseline", "mine (round 1)", "teach (round 1)",
                                  "train (round 1)", "gate", "evaluate"]
    assert all(r.reused for r in again.stages.values()) and not encoded
    assert next(result.model_dir.glob("*.safetensors")).stat().st_mtime_ns == weights
    assert (ws / "eval_report.json").read_bytes() == report_bytes and again.comparison is None
    assert again.eval_report["tuned_vs_base"] == report["tuned_vs_base"] and again.model_dir == result.model_dir

    # force=True runs a current stage again (the split is deterministic: the same files, so the rest stays current).
    from embedtune.workspace import Workspace

    forced = stages.split(Workspace(ws), cfg, force=True)
    assert not forced.reused and forced.value is not None and forced.outputs == again.stages["split"].outputs
    assert stages.train(Workspace(ws), cfg).reused


def test_default_config_round_trips_and_bad_config_is_one_line(tmp_path):
    from embedtune.errors import EmbedtuneError

    path = tmp_path / "run.yaml"
    path.write_text(default_config_yaml())
    assert load_run_config(path) == RunConfig()
    path.write_text("train:\n  loss: hinge\n")
    with pytest.raises(EmbedtuneError, match=r"run\.yaml: train\.loss: Input should be"):
        load_run_config(path)
    path.write_text("train: [unclosed\n")
    with pytest.raises(EmbedtuneError, match=r"run\.yaml:\d+: not valid YAML"):
        load_run_config(path)


def test_a_datasets_own_training_queries_are_not_mistaken_for_eval_contamination(tmp_path, small_beir, tiny_model_dir,
                                                                                   monkeypatch):
    import embedtune.pipeline.stages as stages

    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text((small_beir / "corpus.jsonl").read_text())
    (beir / "qrels" / "test.tsv").write_text((small_beir / "qrels" / "test.tsv").read_text())
    ids = {json.loads(line)["_id"] for line in (beir / "corpus.jsonl").read_text().splitlines()}
    train = [r.split("\t") for r in (scifact_sample() / "qrels" / "train.tsv").read_text().splitlines()[1:]]
    train = [r for r in train if r[1] in ids]
    (beir / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join("\t".join(r) + "\n" for r in train))
    wanted = {r[0] for r in train} | {json.loads(line)["_id"] for line in (small_beir / "queries.jsonl").read_text().splitlines()}
    rows = [line for line in (scifact_sample() / "queries.jsonl").read_text().splitlines() if json.loads(line)["_id"] in wanted]
    (beir / "queries.jsonl").write_text("\n".join(rows) + "\n")  # train and test queries in one file, as BEIR has them

    cfg = _config(beir, tiny_model_dir)
    cfg.generate = cfg.generate.model_copy(update={"signals": [], "labelled": beir})
    monkeypatch.setattr(stages, "baseline", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(cfg, tmp_path / "ws")
    pairs = [json.loads(line) for name in ("train_pairs.jsonl", "dev_pairs.jsonl")
             for line in (tmp_path / "ws" / name).read_text().splitlines()]
    assert train and pairs and all(p["query_id"].startswith("labelled-") for p in pairs)


def test_kills_mid_save_and_mid_training_then_changed_inputs_deliver_a_model_trained_on_them(
        tmp_path, small_beir, tiny_model_dir, monkeypatch):
    """Issue 20 end to end: a kill while a checkpoint is saved (its folder left torn), a kill during training, then
    a changed input (another split): the rerun must neither choke on the torn checkpoint nor resume the old run."""
    from pathlib import Path

    import sentence_transformers.sentence_transformer as st
    from transformers import TrainerCallback

    from embedtune.hashing import sha256_file

    trained: list[int] = []

    class Kill(TrainerCallback):
        def __init__(self, at: str) -> None:
            self.at = at

        def on_step_end(self, args, state, control, **kw):
            trained.append(state.global_step)
            if self.at == "step" and state.global_step == 3:
                raise KeyboardInterrupt

        def on_save(self, args, state, control, **kw):
            if self.at == "save":  # what kill -9 during the save leaves: config and a temp file, no weights
                ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                for f in ckpt.iterdir():
                    if f.name != "config.json" and f.is_file():
                        f.unlink()
                (ckpt / "model.safetensors.tmp").write_bytes(b"\0" * 64)
                raise KeyboardInterrupt

    original = st.SentenceTransformerTrainer.__init__

    def with_callback(at: str):
        def init(self, *a, **kw):
            original(self, *a, **kw)
            self.add_callback(Kill(at))
        return init

    cfg = _config(small_beir, tiny_model_dir)
    cfg.train = cfg.train.model_copy(update={"eval_every_steps": 2})
    cfg.gate = cfg.gate.model_copy(update={"enabled": False})
    ws = tmp_path / "ws"
    for at in ("save", "step"):
        monkeypatch.setattr(st.SentenceTransformerTrainer, "__init__", with_callback(at))
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(cfg, ws)
    assert (ws / "train" / "checkpoints" / "checkpoint-2").exists()  # the second run saved one before its kill

    cfg.split = cfg.split.model_copy(update={"seed": 1})  # changed inputs: another split, other training pairs
    monkeypatch.setattr(st.SentenceTransformerTrainer, "__init__", with_callback("none"))
    trained.clear()
    result = run_pipeline(cfg, ws)
    assert trained[0] == 1  # trained from the start on the new pairs, not resumed at step 2 of the old ones
    record = json.loads((ws / "manifest.json").read_text())["stages"]["train"]
    assert record["inputs"]["train_pairs.jsonl"] == sha256_file(ws / "train_pairs.jsonl")
    assert record["status"] == "done" and result.model_dir.exists()


def test_a_delivered_merge_is_current_on_rerun(tmp_path, small_beir, tiny_model_dir):
    """The gate's merge folder gets the eval model card after the gate stage; a rerun must still find it current."""
    cfg = _config(small_beir, tiny_model_dir)
    cfg.gate = cfg.gate.model_copy(update={  # force the fallback merge: a slice 'too easy to judge', no vetoes
        "alphas": [0.5], "ceiling": 1e-6, "max_dev_drop": 1.0, "harm_p": 1e-9, "max_ood_drop": None, "ood": False})
    result = run_pipeline(cfg, tmp_path / "ws")
    assert result.gate["delivered"] == "merged" and "## Before / after" in (result.model_dir / "README.md").read_text()
    weights = next(result.model_dir.glob("*.safetensors")).stat().st_mtime_ns
    again = run_pipeline(cfg, tmp_path / "ws")
    assert again.model_dir == result.model_dir
    assert next(again.model_dir.glob("*.safetensors")).stat().st_mtime_ns == weights  # the gate did not run again


def test_the_held_out_verdict_says_plainly_when_nothing_is_significant():
    from embedtune.pipeline.evaluate_stage import held_out_verdict

    def row(dim, delta, significant):
        return {"dim": dim, "delta": delta, "significant": significant}

    assert "not significantly better" in held_out_verdict([row(384, 0.005, False), row(96, 0.007, False)])
    assert held_out_verdict([row(384, 0.02, True), row(96, 0.004, False)]).endswith("better than base at 384 dims")
    assert "WORSE than base at 96" in held_out_verdict([row(384, 0.02, True), row(96, -0.03, True)])


def test_no_held_out_lift_points_to_real_queries_and_to_hybrid_when_it_scores_higher():
    from embedtune.pipeline.evaluate_stage import next_step

    def report(delta, significant, hybrid):
        rows = [{"dim": d, "delta": delta, "significant": significant, "tuned ndcg@10": 0.60 + d / 10_000}
                for d in (96, 384)]
        return {"tuned_vs_base": rows, "runs": {"bm25": {"ndcg@10": 0.5}, "hybrid:base": {"ndcg@10": hybrid}}}

    assert next_step(report(0.03, True, 0.70)) is None  # a lift the held-out queries confirm needs no advice
    hint = next_step(report(0.004, False, 0.70))
    assert "--labelled" in hint and "feedback import" in hint
    assert hint.endswith("hybrid:base search scores 0.7000 against 0.6384")  # compared with the full-width model
    assert "hybrid" not in next_step(report(0.004, False, 0.55))
