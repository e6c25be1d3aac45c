"""Ray on a local instance writes the local path's artifacts: corpus and query vectors, index versions, and
LLM queries (same cache rows, same queries.jsonl; a rerun without Ray is all cache hits)."""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np
import pytest
from conftest import sample_texts
from test_index_support import make_workspace as make_index_workspace
from test_mining_cli import write_workspace
from test_querygen_local import tiny_llama  # noqa: F401  (fixture)
from test_querygen_openai import FakeChat, make_workspace

from embedtune.errors import EmbedtuneError

ray = pytest.importorskip("ray")


class Killed(Exception):
    """Stands in for a kill in the middle of a run."""


def not_here(*args, **kwargs):
    """Patched over what the driver would run itself, to prove the work went to the actors (other processes,
    which import the real thing)."""
    raise AssertionError("ran in the driver, not on Ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024, log_to_driver=False)
    yield
    ray.shutdown()


def on_ray():
    """A Runner that sends encoding and LLM calls to the local Ray instance (what ``--ray-address local`` builds)."""
    from embedtune.retrieval.runner import Runner

    return Runner(ray_address="local")


def test_ray_encoding_matches_local(local_ray, tiny_model_dir, tmp_path):
    from embedtune.models import load_embedder
    from embedtune.retrieval import (
        Document, encode_corpus, encode_corpus_ray, encode_texts, encode_texts_ray, model_fingerprint,
    )

    docs = [Document(f"doc-{i:04d}", t, title=f"title {i}") for i, t in enumerate(sample_texts(300))]
    t0 = time.perf_counter()
    remote = encode_corpus_ray(tiny_model_dir, docs, tmp_path / "ray", block_size=64, cpus_per_actor=1)
    print(f"corpus on Ray: {time.perf_counter() - t0:.1f}s")
    local = encode_corpus(load_embedder(tiny_model_dir), docs, tmp_path / "local",
                          model_hash=model_fingerprint(tiny_model_dir))
    assert remote.ids == local.ids == [d.id for d in docs]
    assert not remote.cache_hit and remote.path.name == local.path.name  # the same cache key
    assert remote.vectors.dtype == np.float32 and remote.vectors.shape == local.vectors.shape
    assert ((remote.vectors * local.vectors).sum(axis=1)).min() >= 0.999

    # The file Ray wrote is the local path's artifact: the local stage reads it back as a cache hit.
    again = encode_corpus(load_embedder(tiny_model_dir), docs, tmp_path / "ray",
                          model_hash=model_fingerprint(tiny_model_dir))
    assert again.cache_hit and np.array_equal(again.vectors, remote.vectors)

    # Mining's queries: the same actors, plain texts in, encode_texts' rows out (in input order).
    queries = [t[:60] for t in sample_texts(150)]
    got = encode_texts_ray(tiny_model_dir, queries, "query", block_size=32)
    want = encode_texts(load_embedder(tiny_model_dir), queries, "query", progress=False)
    assert got.shape == want.shape == (150, 32) and ((got * want).sum(axis=1)).min() >= 0.999


def test_an_actor_that_cannot_load_its_model_fails_in_one_line(local_ray, tiny_model_dir):
    from embedtune.retrieval import encode_texts_ray

    t0 = time.perf_counter()
    with pytest.raises(EmbedtuneError, match=r"^unknown inference backend 'bogus'; choose one of") as err:
        encode_texts_ray(tiny_model_dir, ["a query"], "query", inference="bogus")
    print(f"failed actor reported after {time.perf_counter() - t0:.1f}s")
    assert "\n" not in str(err.value)


def test_index_build_on_ray_matches_local(local_ray, tiny_model_dir, tmp_path, monkeypatch):
    import lancedb

    import embedtune.index.build as build_module
    from embedtune.index import build_index

    ws = make_index_workspace(tmp_path / "ws")
    local = build_index(tmp_path / "local", "v1", tiny_model_dir, ws, batch_size=50)
    monkeypatch.setattr(build_module, "encode_texts", not_here)
    t0 = time.perf_counter()
    remote = build_index(tmp_path / "ray", "v1", tiny_model_dir, ws, batch_size=50, runner=on_ray())
    print(f"index build on Ray: {time.perf_counter() - t0:.1f}s")
    assert remote.meta.complete and remote.meta.count == local.meta.count == 120 and remote.embedded == 120
    assert (remote.meta.model_hash, remote.meta.corpus_hash, remote.meta.dim) == (
        local.meta.model_hash, local.meta.corpus_hash, local.meta.dim)
    # Ray's vectors were cached in the workspace, as the local path caches corpora.
    assert len(list((ws / "cache" / "embeddings").glob("*.npy"))) == 1

    def rows(store):
        table = lancedb.connect(str(store)).open_table("v1").to_arrow().to_pydict()
        return dict(zip(table["id"], np.asarray(table["vector"], dtype=np.float32)))

    want, got = rows(tmp_path / "local"), rows(tmp_path / "ray")
    assert set(got) == set(want)
    assert min(float(got[i] @ want[i]) for i in want) >= 0.999


def test_mining_encodes_corpus_and_queries_on_ray(cli, local_ray, tiny_model_dir, tmp_path, monkeypatch):
    import embedtune.retrieval.embedding_cache as cache_mod

    def mine(ws, *extra):
        code, out, err = cli("mine", "--workspace", ws, "--model", tiny_model_dir, "--num-negatives", "3", *extra)
        assert code == 0, out + err
        return [json.loads(line) for line in (ws / "train_triplets.jsonl").read_text().splitlines()]

    local = mine(write_workspace(tmp_path / "local"))
    monkeypatch.setattr(cache_mod, "encode_texts", not_here)  # neither the corpus nor the queries encode here
    t0 = time.perf_counter()
    remote = mine(write_workspace(tmp_path / "ray"), "--ray-address", "local")
    print(f"mining on Ray: {time.perf_counter() - t0:.1f}s")
    assert [r["query_id"] for r in remote] == [r["query_id"] for r in local]
    assert np.allclose([r["positive_score"] for r in remote], [r["positive_score"] for r in local], atol=1e-3)


def _cache_rows(ws) -> dict[str, tuple]:
    """key -> (queries, prompt tokens, completion tokens) of every cached LLM call."""
    with sqlite3.connect(ws / "querygen_cache.sqlite") as db:
        rows = db.execute("SELECT key, queries, prompt_tokens, completion_tokens FROM generations")
        return {key: tuple(rest) for key, *rest in rows}


def test_generation_on_ray_resumes_matches_local_and_reruns_from_cache(local_ray, tiny_llama, tmp_path,  # noqa: F811
                                                               monkeypatch):
    from embedtune.querygen import (
        FilterConfig, GenerateConfig, GenerationCache, LocalHFBackend, LocalOptions, generate_queries,
    )

    # Greedy decoding in float32: deterministic, whatever the batches (left padding changes nothing).
    config = GenerateConfig(
        backend="local", model=str(tiny_llama), styles=["question", "keyword"], per_chunk=2, max_chunks=40,
        signals=[], temperature=0.0, local=LocalOptions(batch_size=4, dtype="float32", max_new_tokens=6),
        filters=FilterConfig(encoder=None, round_trip="none"),
    )
    local_ws, ray_ws = make_workspace(tmp_path / "local", 40), make_workspace(tmp_path / "ray", 40)
    local = generate_queries(local_ws, config)
    real_put = GenerationCache.put

    def put_then_die(cache, key, **kwargs):
        if len(cache) == 30:
            raise Killed
        real_put(cache, key, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(LocalHFBackend, "generate", not_here)
        patch.setattr(GenerationCache, "put", put_then_die)
        t0 = time.perf_counter()
        with pytest.raises(Killed):
            generate_queries(ray_ws, config, runner=on_ray())
        print(f"Ray run killed after {time.perf_counter() - t0:.1f}s")
        assert len(_cache_rows(ray_ws)) == 30  # each result was cached as its block came back
        patch.setattr(GenerationCache, "put", real_put)
        remote = generate_queries(ray_ws, config, runner=on_ray())  # resumes: only the 50 calls not cached yet
        print(f"Ray run resumed in {time.perf_counter() - t0:.1f}s")
    assert remote.llm is not None and local.llm is not None
    assert (remote.llm.calls, remote.llm.cached_calls, remote.llm.new_calls, remote.llm.failed_calls) == (80, 30, 50, 0)
    rows = _cache_rows(ray_ws)
    assert rows == _cache_rows(local_ws) and len(rows) == 80  # queries and token counts, call by call
    assert sum(r[0] != "[]" for r in rows.values()) >= 40  # the tiny model does write (pre-filled "What ...")
    for name in ("queries.jsonl", "querygen_rejected.jsonl"):
        assert (ray_ws / name).read_bytes() == (local_ws / name).read_bytes()

    # Without Ray the same stage is all cache hits and writes the same file.
    before = (ray_ws / "queries.jsonl").read_bytes()
    again = generate_queries(ray_ws, config, force=True)
    assert again.llm is not None and again.llm.cached_calls == 80 and again.llm.new_calls == 0
    assert (ray_ws / "queries.jsonl").read_bytes() == before


def test_generation_on_ray_stops_on_a_fatal_endpoint_error_in_one_line(local_ray, tmp_path):
    from embedtune.querygen import FilterConfig, GenerateConfig, OpenAIOptions, generate_queries

    chat = FakeChat()
    try:
        config = GenerateConfig(
            backend="openai", model="fake-model", per_chunk=2, max_chunks=6, signals=[],
            openai=OpenAIOptions(base_url=chat.url, concurrency=1, backoff_base=0.001),
            filters=FilterConfig(encoder=None, round_trip="none"),
        )
        ws = make_workspace(tmp_path / "ws", 6)
        report = generate_queries(ws, config, runner=on_ray())  # the actor reaches the test's server over HTTP
        assert report.llm is not None and report.llm.new_calls == 6 and sum(report.kept.values()) > 0
        chat.always = "401"
        with pytest.raises(EmbedtuneError) as err:
            generate_queries(ws, config.model_copy(update={"per_chunk": 3}), force=True, runner=on_ray())
        assert "HTTP 401" in str(err.value) and "\n" not in str(err.value)
        assert len(_cache_rows(ws)) == 6  # what was paid for before stays cached
    finally:
        chat.close()


def test_bad_ray_addresses_are_one_line(cli, tiny_llama, tmp_path, monkeypatch):  # noqa: F811
    ws = make_workspace(tmp_path / "ws", 4)
    args = ["generate", "-w", ws, "--model", tiny_llama, "--signals", "none", "--round-trip", "none",
            "--filter-model", "none", "--max-chunks", "2"]
    code, out, err = cli(*args, "--ray-address", "no-port")
    assert code == 2 and "expected auto, local, HOST:PORT or ray://HOST:PORT" in out + err
    # A dead HOST:PORT fails in seconds (Ray itself retries it for minutes); Ray may be up here: pretend it is not.
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    t0 = time.perf_counter()
    code, out, err = cli(*args, "--ray-address", "127.0.0.1:1")
    assert code == 2 and "cannot reach the Ray cluster at '127.0.0.1:1'" in out + err
    assert "Traceback" not in out + err and time.perf_counter() - t0 < 30
