"""Adapter index versions: attached without re-embedding, served (/search, /v1/embeddings with input_type query),
promoted, shadow-compared and rolled back like any version."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import sample_texts
from test_adapter import N, _query, adapter_workspace, config
from test_serving_support import serving

from embedtune.adapter import QueryAdapter, train_adapter
from embedtune.errors import EmbedtuneError
from embedtune.index import attach_adapter, build_index, embed_for, open_store, shadow_compare
from embedtune.index.model import load_version_adapter
from embedtune.index.status import store_status
from embedtune.models import load_embedder


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    root = tmp_path_factory.mktemp("adapter-serving")
    ws = adapter_workspace(root / "ws", tiny_model_dir)
    # The last epoch, not the dev-best: with a tiny random model dev may prefer the identity, and these tests need
    # an adapter that moves queries.
    adapter = train_adapter(ws, config(tiny_model_dir, select_on_dev=False), out=root / "adapter").path
    identity = QueryAdapter.identity(32, base_model_hash=QueryAdapter.load(adapter).base_model_hash).save(root / "identity")
    store = root / "store"
    build_index(store, "v1", tiny_model_dir, ws, backend="lancedb")
    st = open_store(store)
    st.promote("v1")
    return store, adapter, identity, st


def test_attach_records_the_adapter_and_stores_nothing(setup) -> None:
    store, adapter, identity, st = setup
    meta = attach_adapter(store, "v1", "v1_adapted", adapter)
    v1 = st.meta("v1")
    assert meta.complete and meta.vectors_of == "v1" and meta.model_hash == v1.model_hash and meta.dim == v1.dim
    assert meta.query_adapter == str(adapter.resolve()) and len(meta.query_adapter_hash) == 64
    assert not (store / "v1_adapted.lance").exists()  # the vectors are v1's, never copied
    status = {s.meta.name: s for s in store_status(open_store(store))}
    assert status["v1_adapted"].count == N and status["v1_adapted"].disk_bytes < 20_000
    with pytest.raises(EmbedtuneError, match="already exists"):
        attach_adapter(store, "v1", "v1_adapted", adapter)
    other = QueryAdapter.identity(32, base_model_hash="0" * 64).save(adapter.parent / "foreign")
    with pytest.raises(EmbedtuneError, match="only fits its own base model"):
        attach_adapter(store, "v1", "foreign", other)


def test_identity_adapter_version_serves_the_same_results(setup) -> None:
    store, _, identity, st = setup
    attach_adapter(store, "v1", "v1_identity", identity)
    queries = {f"q{i}": _query(t) for i, t in enumerate(sample_texts(10))}
    with serving(store) as url:
        for q in queries.values():
            base = httpx.post(f"{url}/search", json={"query": q, "k": 5}).json()["hits"]
            same = httpx.post(f"{url}/search", json={"query": q, "k": 5, "index": "v1_identity"}).json()["hits"]
            assert [h["id"] for h in same] == [h["id"] for h in base]
    result = shadow_compare(store, "v1", "v1_identity", queries)
    assert result.overlap == 1.0 and result.top1_changed == 0.0


def test_adapter_version_serves_promotes_and_rolls_back(setup, tiny_model_dir: Path) -> None:
    store, adapter, _, st = setup
    if "v1_adapted" not in {m.name for m in st.versions()}:
        attach_adapter(store, "v1", "v1_adapted", adapter)
    st.promote("v1_adapted")
    meta = st.meta("live")
    assert meta.name == "v1_adapted"
    model, loaded = load_embedder(tiny_model_dir), load_version_adapter(meta)
    query = _query(sample_texts(N)[3])
    want = st.open("v1_adapted").search(embed_for(model, meta, [query], adapter=loaded), 5)[0]
    with serving(store) as url:
        got = httpx.post(f"{url}/search", json={"query": query, "k": 5}).json()
        assert got["index"] == "v1_adapted" and [h["id"] for h in got["hits"]] == [h.id for h in want]
        body = {"input": [query], "model": "live"}
        as_query = np.array(httpx.post(f"{url}/v1/embeddings", json={**body, "input_type": "query"}).json()["data"][0]["embedding"])
        as_doc = np.array(httpx.post(f"{url}/v1/embeddings", json=body).json()["data"][0]["embedding"])
        plain = embed_for(model, meta, [query], "query")[0]
        np.testing.assert_allclose(as_query, loaded.apply(plain[None])[0], atol=1e-5)  # queries: through the adapter
        np.testing.assert_allclose(as_doc, embed_for(model, meta, [query], "document")[0], atol=1e-5)  # documents: not
        assert not np.allclose(as_query, plain, atol=1e-3)
    assert st.rollback() == "v1" and st.live_name() == "v1"


def test_a_changed_adapter_is_refused(setup, tmp_path: Path) -> None:
    store, adapter, _, st = setup
    import shutil

    moved = shutil.copytree(adapter, tmp_path / "copy")
    attach_adapter(store, "v1", "v1_copy", moved)
    QueryAdapter.identity(32, base_model_hash=QueryAdapter.load(moved).base_model_hash).save(moved)
    with pytest.raises(EmbedtuneError, match="changed since"):
        load_version_adapter(st.meta("v1_copy"))
