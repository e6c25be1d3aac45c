"""Serving a Milvus store (milvus-lite in a folder): search, hybrid search, and following a promote.

milvus-lite admits one process per folder, so the promote comes from the server's own process here; with a
Milvus server it would come from any process.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from conftest import sample_texts
from test_serving_support import make_workspace

from embedtune.index import build_index, open_store
from embedtune.serving import BackgroundServer, ServeConfig, create_app


def test_milvus_store(tmp_path: Path, tiny_model_dir: Path) -> None:
    texts = sample_texts(40)
    store_dir = tmp_path / "store"
    build_index(store_dir, "v1", tiny_model_dir, make_workspace(tmp_path / "w1", texts[:20], "a"), backend="milvus")
    build_index(store_dir, "v2", tiny_model_dir, make_workspace(tmp_path / "w2", texts[20:], "b"), dim=16)
    store = open_store(store_dir)
    store.promote("v1")
    app = create_app(ServeConfig(store=str(store_dir), poll_interval=0.1), store)
    with BackgroundServer(app) as server:
        health = httpx.get(f"{server.url}/health").json()
        assert (health["backend"], health["index"], health["count"]) == ("milvus", "v1", 20)
        for mode in ("dense", "hybrid"):
            hits = httpx.post(f"{server.url}/search", json={"query": texts[3], "k": 2, "mode": mode}).json()["hits"]
            assert hits[0]["id"] == "a-3#0"
        store.promote("v2")
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/health").json()["index"] != "v2" and time.monotonic() < deadline:
            time.sleep(0.05)
        got = httpx.post(f"{server.url}/search", json={"query": texts[23], "k": 1}).json()
        assert got["index"] == "v2" and got["hits"][0]["id"] == "b-3#0"
