"""Building versions with the tiny model on both backends: counts and ids, resume after a kill, refusals."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from test_index_support import N_DOCS, copy_model, make_workspace, workspace  # noqa: F401  (fixture)

import embedtune.index.build as build_module
from embedtune.corpus import load_chunks
from embedtune.errors import EmbedtuneError
from embedtune.index import build_index, open_store

N_CHUNKS = 2 * N_DOCS


class Killed(Exception):
    """Stands in for a kill in the middle of a build."""


@pytest.fixture
def encoded(monkeypatch) -> Counter:
    """Counts every text the build embeds (to prove none is embedded twice)."""
    seen: Counter = Counter()
    real = build_module.encode_texts

    def counting(model, texts, *args, **kwargs):
        seen.update(texts)
        return real(model, texts, *args, **kwargs)

    monkeypatch.setattr(build_module, "encode_texts", counting)
    return seen


@pytest.mark.parametrize("backend", ["lancedb", "milvus"])
def test_build_stores_every_chunk_once(tmp_path, tiny_model_dir, workspace, backend):  # noqa: F811
    result = build_index(tmp_path / "s", "v1", tiny_model_dir, workspace, backend=backend, batch_size=50)
    meta = result.meta
    assert meta.complete and meta.count == N_CHUNKS == meta.expected and result.embedded == N_CHUNKS
    assert (meta.backend, meta.dim, meta.model_dim, meta.normalized) == (backend, 32, 32, True)
    assert meta.model_path == str(tiny_model_dir.resolve()) and len(meta.model_hash) == 64
    version = open_store(tmp_path / "s").open("v1")
    assert version.ids() == {c.id for c in load_chunks(workspace)} and version.count() == N_CHUNKS
    assert version.meta.complete
    # Searching with a stored chunk's own vector finds that chunk first.
    from embedtune.index import embed_for
    from embedtune.models import load_embedder

    chunk = load_chunks(workspace)[7]
    vec = embed_for(load_embedder(tiny_model_dir), meta, [chunk.text], "document")
    top = version.search(vec, 3)[0][0]
    assert (top.id, top.doc_id, top.text) == (chunk.id, chunk.doc_id, chunk.text)
    # Rebuilding a complete version is a no-op.
    assert build_index(tmp_path / "s", "v1", tiny_model_dir, workspace).embedded == 0


@pytest.mark.parametrize("backend", ["lancedb", "milvus"])
def test_killed_build_resumes_without_reembedding(tmp_path, tiny_model_dir, workspace, encoded, backend):  # noqa: F811
    def kill_after_two(stored: int, total: int) -> None:
        if stored >= 60:
            raise Killed

    with pytest.raises(Killed):
        build_index(tmp_path / "s", "v1", tiny_model_dir, workspace, backend=backend, batch_size=30,
                    on_batch=kill_after_two)
    store = open_store(tmp_path / "s")
    half = store.open("v1")
    assert not half.meta.complete and half.count() == 60
    assert store.live_name() is None  # a build never touches live
    with pytest.raises(EmbedtuneError, match="incomplete"):
        store.promote("v1")

    result = build_index(tmp_path / "s", "v1", tiny_model_dir, workspace, batch_size=30)
    assert (result.already_stored, result.embedded) == (60, N_CHUNKS - 60)
    texts = [c.text for c in load_chunks(workspace)]
    assert sorted(encoded) == sorted(texts) and max(encoded.values()) == 1  # each chunk embedded exactly once
    version = open_store(tmp_path / "s").open("v1")
    assert version.meta.complete and version.count() == N_CHUNKS
    assert version.ids() == {c.id for c in load_chunks(workspace)}
    store.promote("v1")


def test_matryoshka_dim_and_refusals(tmp_path, tiny_model_dir, workspace):  # noqa: F811
    meta = build_index(tmp_path / "s", "small", tiny_model_dir, workspace, dim=8).meta
    assert (meta.dim, meta.model_dim) == (8, 32)
    from embedtune.index import embed_for
    from embedtune.models import load_embedder

    vec = embed_for(load_embedder(tiny_model_dir), meta, ["a query"])
    assert vec.shape == (1, 8) and np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5)

    with pytest.raises(EmbedtuneError, match="dim=64 is larger than the 32 dimensions"):
        build_index(tmp_path / "s", "big", tiny_model_dir, workspace, dim=64)
    with pytest.raises(EmbedtuneError, match="already exists .* with another dim"):
        build_index(tmp_path / "s", "small", tiny_model_dir, workspace, dim=16)
    other = copy_model(tiny_model_dir, tmp_path / "other-model")
    with pytest.raises(EmbedtuneError, match="already exists .* with another model"):
        build_index(tmp_path / "s", "small", other, workspace, dim=8)
    with pytest.raises(EmbedtuneError, match="already exists .* with another corpus"):
        build_index(tmp_path / "s", "small", tiny_model_dir, make_workspace(tmp_path / "ws2", 10), dim=8)
    with pytest.raises(EmbedtuneError, match="no chunks yet"):
        build_index(tmp_path / "s", "x", tiny_model_dir, tmp_path / "empty-ws")
    assert [m.name for m in open_store(tmp_path / "s").versions()] == ["small"]


KILL_SCRIPT = """
import os, signal, sys
from embedtune.index import build_index

def kill(stored, total):
    if stored >= 60:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally: as `kill -9` mid-build

build_index(sys.argv[1], "v1", sys.argv[2], sys.argv[3], backend=sys.argv[4], batch_size=30, on_batch=kill)
"""


def test_sigkilled_build_resumes(tmp_path, tiny_model_dir, workspace, encoded):  # noqa: F811
    """A real ``kill -9`` of a milvus-lite build (LanceDB commits each append whole; milvus-lite relies on its WAL)."""
    import signal
    import subprocess
    import sys

    args = [str(tmp_path / "s"), str(tiny_model_dir), str(workspace), "milvus"]
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, *args], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert open_store(tmp_path / "s").open("v1").count() == 60  # both batches committed before the kill

    result = build_index(tmp_path / "s", "v1", tiny_model_dir, workspace, batch_size=30)
    assert (result.already_stored, result.embedded) == (60, N_CHUNKS - 60)
    assert sum(encoded.values()) == N_CHUNKS - 60 and max(encoded.values()) == 1
    version = open_store(tmp_path / "s").open("v1")
    assert version.meta.complete and version.ids() == {c.id for c in load_chunks(workspace)}
    assert version.count() == N_CHUNKS
