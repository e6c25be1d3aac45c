"""The store layer on both real backends (LanceDB, milvus-lite): versions, search, live alias, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedtune.errors import EmbedtuneError
from embedtune.index import LIVE, Hit, IndexMeta, IndexVersion, open_store

DIM = 8


def meta(name: str, backend: str, model_hash: str = "m1", complete: bool = True) -> IndexMeta:
    return IndexMeta(name=name, backend=backend, model_path="/models/m", model_hash=model_hash, dim=DIM,
                     normalized=True, corpus_hash="c", complete=complete, created_at=f"2026-01-01T00:00:0{len(name)}")


def unit(rows: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def add_rows(version, vectors: np.ndarray, prefix: str = "c") -> list[str]:
    ids = [f"{prefix}{i}" for i in range(len(vectors))]
    version.add(ids, vectors, [f"text {i}" for i in ids], [f"doc-{i}" for i in ids], [[] for _ in ids])
    return ids


@pytest.fixture(params=["lancedb", "milvus"])
def store(request, tmp_path):
    return open_store(tmp_path / "store", backend=request.param, create=True)


def test_versions_store_rows_and_search_exactly(store):
    version = store.create(meta("v1", store.backend))
    assert isinstance(version, IndexVersion)
    vectors = unit(30, 0)
    ids = add_rows(version, vectors[:20])
    add_rows(version, vectors[20:], prefix="x")  # a second batch
    assert version.count() == 30
    assert version.ids() == set(ids) | {f"x{i}" for i in range(10)}
    hits = store.open("v1").search(vectors[[3, 25]], k=5)
    assert [h[0].id for h in hits] == ["c3", "x5"]
    assert hits[0][0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0][0].text == "text c3" and hits[0][0].doc_id == "doc-c3"
    expected = np.argsort(-(vectors @ vectors[3]))[:5]  # exact cosine ranking
    assert [h.id for h in hits[0]] == [(ids + [f"x{i}" for i in range(10)])[i] for i in expected]
    assert all(a.score >= b.score for a, b in zip(hits[0], hits[0][1:]))
    assert {h.id for h in version.chunks()} == version.ids()


def test_duplicate_doc_ids_round_trip(store):
    version = store.create(meta("v1", store.backend))
    version.add(["a"], unit(1, 1), ["t"], ["d1"], [["d2", "d3"]])
    assert version.search(unit(1, 1), 1)[0][0] == Hit("a", pytest.approx(1.0, abs=1e-5), "t", "d1", ("d2", "d3"))


def test_promote_rollback_is_a_stack(store):
    for name in ("a", "bb", "ccc"):
        store.create(meta(name, store.backend))
    assert store.live_name() is None
    with pytest.raises(EmbedtuneError, match="no live version"):
        store.open(LIVE)
    store.promote("a")
    store.promote("bb")
    store.promote("bb")  # already live: no history entry
    store.promote("ccc")
    assert store.live_name() == "ccc" and store.open(LIVE).meta.name == "ccc"
    assert store.history() == ["a", "bb"]
    assert store.rollback() == "bb"
    assert store.rollback() == "a"
    with pytest.raises(EmbedtuneError, match="nothing to roll back"):
        store.rollback()
    assert store.live_name() == "a"
    assert [m.name for m in store.versions()] == ["a", "bb", "ccc"]  # data of every version is kept


def test_promote_refuses_incomplete_and_unknown(store):
    store.create(meta("half", store.backend, complete=False))
    with pytest.raises(EmbedtuneError, match="'half' is incomplete"):
        store.promote("half")
    with pytest.raises(EmbedtuneError, match=r"no index version 'nope' .*versions: half"):
        store.promote("nope")
    assert store.live_name() is None


def test_model_and_dim_mismatch_refused(store):
    version = store.create(meta("v1", store.backend, model_hash="a" * 64))
    version.check_model("a" * 64)
    with pytest.raises(EmbedtuneError, match="not of model bbbbbbbbbbbb.*not comparable"):
        version.check_model("b" * 64)
    with pytest.raises(EmbedtuneError, match="query vectors have 4 dims; index version 'v1' stores 8"):
        version.search(np.zeros((1, 4), np.float32), 3)


def test_names_are_checked(store):
    for bad in ("live", "a-b", "1x", ""):
        with pytest.raises(EmbedtuneError):
            store.create(meta(bad, store.backend))
    store.create(meta("v1", store.backend))
    with pytest.raises(EmbedtuneError, match="already exists"):
        store.create(meta("v1", store.backend))


def test_meta_and_alias_survive_reopening(store, tmp_path):
    version = store.create(meta("v1", store.backend, complete=False))
    add_rows(version, unit(5, 2))
    store.save_meta(meta("v1", store.backend, complete=True))
    store.promote("v1")
    again = open_store(tmp_path / "store")  # backend recorded in the folder
    assert again.backend == store.backend
    assert again.live_name() == "v1" and again.open(LIVE).meta.complete
    assert again.open("v1").count() == 5


def test_backend_recorded_and_checked(tmp_path):
    open_store(tmp_path / "s", backend="lancedb", create=True)
    assert json.loads((tmp_path / "s" / "_embedtune" / "store.json").read_text())["backend"] == "lancedb"
    with pytest.raises(EmbedtuneError, match="is a lancedb store, not milvus"):
        open_store(tmp_path / "s", backend="milvus")
    with pytest.raises(EmbedtuneError, match="unknown index backend 'faiss'"):
        open_store(tmp_path / "s", backend="faiss")
    with pytest.raises(EmbedtuneError, match="no index store at"):
        open_store(tmp_path / "none")


def test_disk_bytes_measured_locally(store):
    version = store.create(meta("v1", store.backend))
    add_rows(version, unit(50, 3))
    version.finish()
    assert version.disk_bytes() > 50 * DIM * 4 * 0.5
