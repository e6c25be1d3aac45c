"""Helpers for the serving tests: a tiny indexed corpus and a server on a background thread (no tests here)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import sample_texts

from embedtune.index import IndexMeta, build_index, open_store
from embedtune.serving import BackgroundServer, ServeConfig, create_app
from embedtune.workspace import write_jsonl

N_CHUNKS = 60


def make_workspace(root: Path, texts: list[str], prefix: str) -> Path:
    """A workspace whose chunks.jsonl holds one chunk per text: ids ``<prefix>-<i>#0``, doc ids ``<prefix>-<i>``."""
    rows = [
        {"id": f"{prefix}-{i}#0", "doc_id": f"{prefix}-{i}", "text": text, "source": "test",
         "start_char": 0, "end_char": len(text), "n_tokens": 0}
        for i, text in enumerate(texts)
    ]
    root.mkdir(parents=True, exist_ok=True)
    write_jsonl(root / "chunks.jsonl", rows)
    return root


def build_version(
    store: Path, name: str, model: Path, texts: list[str], prefix: str, dim: int | None = None
) -> IndexMeta:
    """Index ``texts`` with ``model`` as version ``name`` of the LanceDB store ``store``."""
    ws = make_workspace(store.parent / f"ws-{name}", texts, prefix)
    return build_index(store, name, model, ws, dim=dim, backend="lancedb").meta


def build_store(root: Path, model: Path) -> Path:
    """A store with ``v1`` (full dim, live) and ``small`` (a 16-dim Matryoshka prefix, other ids)."""
    store = root / "store"
    texts = sample_texts(2 * N_CHUNKS)
    build_version(store, "v1", model, texts[:N_CHUNKS], "a")
    build_version(store, "small", model, texts[N_CHUNKS:], "b", dim=16)
    open_store(store).promote("v1")
    return store


@contextlib.contextmanager
def serving(store: Path, **settings) -> Iterator[str]:
    """Serve ``store`` with ``settings`` (ServeConfig fields) on a free port; yields the base URL."""
    app = create_app(ServeConfig(store=str(store), **settings))
    with BackgroundServer(app) as server:
        yield server.url


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A read-only store shared by a test module (see :func:`build_store`)."""
    return build_store(tmp_path_factory.mktemp("serving"), tiny_model_dir)
