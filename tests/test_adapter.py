"""Query-only adapters: identity leaves retrieval unchanged, training lifts in-sample retrieval at every dim
without ever encoding the corpus, the evaluation helper, the recommendation rule and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import sample_texts
from test_serving_support import make_workspace

from embedtune.adapter import AdaptedRetriever, AdapterConfig, QueryAdapter, compare_in_workspace, recommend, train_adapter
from embedtune.adapter.train import ndcg_at_10
from embedtune.errors import EmbedtuneError
from embedtune.evaluation.significance import Comparison, compare
from embedtune.retrieval import embedding_cache as ec
from embedtune.retrieval.base import Document
from embedtune.retrieval.dense import DenseRetriever
from embedtune.workspace import write_jsonl

N = 80


def _query(text: str) -> str:
    words = text.split()
    return " ".join(words[8:20])  # a piece from inside the passage: the base model finds some, not all


def adapter_workspace(root: Path, model_dir: Path, cache: bool = True) -> Path:
    """Chunks, mined triplets, dev pairs and an eval split over N abstracts; base corpus vectors cached."""
    texts = sample_texts(N)
    ws = make_workspace(root, texts, "a")
    ids = [f"a-{i}#0" for i in range(N)]
    train, dev, held = range(0, 50), range(50, 65), range(65, N)
    write_jsonl(ws / "train_triplets.jsonl", (
        {"query_id": f"q{i}", "query": _query(texts[i]), "positive_id": ids[i], "positive": texts[i],
         "negative_ids": [ids[(i + 1) % N], ids[(i + 7) % N]], "negatives": [texts[(i + 1) % N], texts[(i + 7) % N]]}
        for i in train))
    write_jsonl(ws / "dev_pairs.jsonl", ({"query_id": f"d{i}", "query": _query(texts[i]), "positive_ids": [ids[i]]}
                                         for i in dev))
    (ws / "eval").mkdir(exist_ok=True)
    write_jsonl(ws / "eval" / "queries.jsonl", ({"_id": f"e{i}", "text": _query(texts[i])} for i in held))
    (ws / "eval" / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"e{i}\ta-{i}\t1\n" for i in held))
    if cache:
        from embedtune.models import load_embedder

        docs = [Document(i, t) for i, t in zip(ids, texts)]
        ec.encode_corpus(load_embedder(model_dir), docs, ec.default_cache_dir(ws),
                         model_hash=ec.model_fingerprint(model_dir))
    return ws


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    return adapter_workspace(tmp_path_factory.mktemp("adapter") / "ws", tiny_model_dir)


def config(model: Path, **kw) -> AdapterConfig:
    return AdapterConfig(**{"base_model": str(model), "dims": [32, 16, 8], "epochs": 30, "learning_rate": 1e-2, "batch_size": 16, **kw})


def test_identity_adapter_changes_nothing(workspace: Path, tiny_model_dir: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for kind in ("linear", "mlp"):
        np.testing.assert_allclose(QueryAdapter.identity(32, kind).apply(x), x, atol=1e-6)
    texts = sample_texts(N)
    docs = [Document(f"a-{i}#0", t) for i, t in enumerate(texts)]
    queries = {f"q{i}": _query(texts[i]) for i in range(20)}
    base = DenseRetriever(tiny_model_dir, cache_dir=ec.default_cache_dir(workspace))
    base.index(docs)
    adapted = AdaptedRetriever(base, QueryAdapter.identity(32))
    adapted.index(docs)
    for dim in (32, 8):
        want, got = base.truncated(dim).search(queries, 10), adapted.truncated(dim).search(queries, 10)
        assert {q: list(r) for q, r in got.items()} == {q: list(r) for q, r in want.items()}


def test_training_moves_the_adapter_and_lifts_in_sample(workspace: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    result = train_adapter(workspace, config(tiny_model_dir, select_on_dev=False), out=tmp_path / "ad")
    adapter = QueryAdapter.load(result.path)
    assert adapter.dims == [32, 16, 8] and adapter.base_model_hash == ec.model_fingerprint(tiny_model_dir)
    assert not np.allclose(adapter.module.weight.detach().numpy(), np.eye(32), atol=1e-3)
    assert result.rows == 50 and result.source == "train_triplets.jsonl" and not result.distill
    assert (tmp_path / "ad" / "adapter.safetensors").stat().st_size < 10_000
    # in-sample: the training queries against their own passages, exact search over the frozen corpus
    texts = sample_texts(N)
    from embedtune.models import load_embedder

    q = ec.encode_texts(load_embedder(tiny_model_dir), [_query(texts[i]) for i in range(50)], "query", progress=False)
    corpus = np.load(next((workspace / "cache" / "embeddings").glob("*.npy")))
    relevant = [{i} for i in range(50)]
    before, after = ndcg_at_10(q, corpus, relevant, [32, 16, 8]), ndcg_at_10(adapter.apply(q), corpus, relevant, [32, 16, 8])
    assert all(a >= b - 1e-9 for a, b in zip(after, before)), (before, after)
    assert sum(after) > sum(before)


def test_corpus_is_never_encoded(workspace: Path, tiny_model_dir: Path, tmp_path: Path, monkeypatch) -> None:
    kinds: list[str] = []
    real = ec.encode_texts

    def counting(model, texts, kind="document", *args, **kwargs):
        kinds.append(kind)
        return real(model, texts, kind, *args, **kwargs)

    monkeypatch.setattr(ec, "encode_texts", counting)
    result = train_adapter(workspace, config(tiny_model_dir, epochs=2), out=tmp_path / "ad")
    assert kinds and set(kinds) == {"query"}  # training queries and dev queries; never a document
    assert result.best_epoch is not None and len(result.history) == 3  # identity + 2 epochs, judged on dev
    bare = adapter_workspace(tmp_path / "bare", tiny_model_dir, cache=False)
    with pytest.raises(EmbedtuneError, match="no cached vectors"):
        train_adapter(bare, config(tiny_model_dir, epochs=1), out=tmp_path / "ad2")
    assert set(kinds) == {"query"}


def test_teacher_rows_are_distilled(workspace: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (workspace / "train_triplets.jsonl").read_text().splitlines()]
    ws = make_workspace(tmp_path / "ws", sample_texts(N), "a")
    for extra in ("dev_pairs.jsonl", "train_triplets.jsonl"):
        (ws / extra).write_text((workspace / extra).read_text())
    (ws / "cache").symlink_to(workspace / "cache")
    write_jsonl(ws / "train_teacher.jsonl", ({**r, "labels": [5.0, 1.0, 0.5]} for r in rows))
    result = train_adapter(ws, config(tiny_model_dir, epochs=2))
    assert result.distill and result.source == "train_teacher.jsonl" and result.path == ws / "adapter"
    again = train_adapter(ws, config(tiny_model_dir, epochs=2))
    assert again.reused and again.adapter.meta["train"]["distill"]


def test_comparison_and_costs(workspace: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    result = train_adapter(workspace, config(tiny_model_dir, epochs=3), out=tmp_path / "ad")
    cmp = compare_in_workspace(workspace, tiny_model_dir, result.path, tuned_model=tiny_model_dir, encode_rate=100.0)
    rows = cmp.rows()
    assert [r["dim"] for r in rows] == [32, 16, 8] and cmp.evaluation.n_queries == N - 65
    assert all(r["tuned delta"] == 0 and r["adapter share of tuned lift"] is None for r in rows)  # tuned == base here
    adapter_cost, tune_cost = cmp.costs
    assert adapter_cost.reembed_seconds == 0 and adapter_cost.extra_storage_bytes > 0
    assert tune_cost.reembed_seconds == pytest.approx(N / 100.0) and tune_cost.extra_storage_bytes == N * 32 * 4
    assert cmp.recommendation is not None and cmp.recommendation.choice in ("adapter", "base")  # tuned never lifts
    assert json.dumps(cmp.to_json()) and cmp.to_json()["recommendation"]["choice"] == cmp.recommendation.choice


def _lift(delta: float, n: int = 42) -> Comparison:
    """Base vs a system ``delta`` better on average, with zero-mean spread (significant unless delta is 0)."""
    base = {f"q{i}": 0.5 + 0.01 * (i % 5) for i in range(n)}
    return compare({q: v + delta + 0.002 * (i % 3 - 1) for i, (q, v) in enumerate(base.items())}, base)


@pytest.mark.parametrize(("adapter", "tuned", "reembed", "choice"), [
    ([0.0, 0.0], [0.0, 0.0], 10.0, "base"),           # nothing lifts
    ([0.05, 0.03], [0.08, 0.06], 10.0, "adapter"),    # 57% of the lift
    ([0.02, 0.01], [0.08, 0.06], 10.0, "fine-tune"),  # 21% of the lift, re-embedding cheap
    ([0.02, 0.01], [0.08, 0.06], 1e5, "adapter"),     # 21%, but re-embedding is over the budget
    ([0.02, 0.01], [0.0, 0.0], 10.0, "adapter"),      # the fine-tune does not lift
    ([0.0, 0.0], [0.08, 0.06], 1e5, "fine-tune"),     # only the fine-tune lifts, whatever it costs
    ([0.05, -0.05], [0.08, 0.06], 10.0, "fine-tune"),  # the adapter hurts one dim: it does not lift
    ([0.05, 0.03], [], 10.0, "adapter"),              # no fine-tune measured
])
def test_recommendation_rule(adapter: list[float], tuned: list[float], reembed: float, choice: str) -> None:
    advice = recommend([_lift(d) for d in adapter], [_lift(d) for d in tuned], reembed)
    assert advice.choice == choice, advice
    assert advice.line().startswith(f"recommendation: {choice} (")
    if tuned and sum(tuned) > 0:
        assert advice.share == pytest.approx(sum(adapter) / sum(tuned), abs=0.01)


def test_cli_train(workspace: Path, tiny_model_dir: Path, tmp_path: Path, cli) -> None:
    code, out, _ = cli("adapter", "train", "-w", workspace, "--model", tiny_model_dir, "--dims", "32,16",
                       "--epochs", "2", "--out", tmp_path / "ad")
    assert code == 0, out
    assert "corpus not encoded" in out and QueryAdapter.load(tmp_path / "ad").dims == [32, 16]


def test_cli_eval_ends_with_recommendation(workspace: Path, tiny_model_dir: Path, tmp_path: Path, cli) -> None:
    train_adapter(workspace, config(tiny_model_dir, epochs=2), out=tmp_path / "ad")
    code, out, _ = cli("adapter", "eval", "-w", workspace, "--model", tiny_model_dir, "--adapter", tmp_path / "ad",
                       "--tuned", tiny_model_dir, "--reembed-budget", "0", "--json", tmp_path / "cmp.json")
    assert code == 0, out
    assert out.strip().splitlines()[-1].startswith("recommendation: ")
    assert json.loads((tmp_path / "cmp.json").read_text())["recommendation"]["choice"] in ("adapter", "base")


def test_run_config_section_follows_the_run_model(tiny_model_dir: Path, tmp_path: Path, workspace: Path, cli) -> None:
    from embedtune.pipeline.config import RunConfig, default_config_yaml

    assert RunConfig().adapter.base_model is None and "adapter:" in default_config_yaml()
    run_yaml = tmp_path / "run.yaml"
    run_yaml.write_text(default_config_yaml().replace("base_model: all-MiniLM-L6-v2", f"base_model: {tiny_model_dir}", 1))
    code, out, _ = cli("adapter", "train", "-w", workspace, "--config", run_yaml, "--dims", "32", "--epochs", "1",
                       "--out", tmp_path / "ad")
    assert code == 0, out
    assert QueryAdapter.load(tmp_path / "ad").base_model_hash == ec.model_fingerprint(tiny_model_dir)
