"""Build one index version: re-embed a workspace's chunks with a model and store them, resumably.

Chunks are embedded and appended in batches (``batch_size`` chunks, one atomic append each) with their ids.
A killed build leaves an *incomplete* version; rerunning the same command skips every id already stored, so
no chunk is embedded twice and none is lost. At the end the stored id set and row count are checked against
the chunks, and only then is the version marked complete: promote refuses anything else, and nothing here
ever touches the ``live`` alias.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from embedtune.corpus import Chunk, load_chunks
from embedtune.corpus.chunk import chunk_documents
from embedtune.errors import EmbedtuneError
from embedtune.encoding import inference_of
from embedtune.index.base import IndexMeta, IndexStore, IndexVersion, validate_name
from embedtune.index.store import check_backend, open_store
from embedtune.progress import console, progress_bar
from embedtune.retrieval.base import corpus_hash
from embedtune.retrieval.dense import truncate_dims
from embedtune.retrieval.embedding_cache import encode_texts, model_fingerprint
from embedtune.retrieval.runner import LOCAL, Runner
from embedtune.workspace import Workspace
from embedtune.workspace.manifest import utcnow

# Ingest parameters that decide what a chunk is; recorded so two versions' chunking can be compared.
_CHUNKING_KEYS = ("model", "tokenizer", "chunk_tokens", "overlap_tokens", "max_tokens", "include_title",
                  "min_tokens", "near_duplicate_threshold", "format")


@dataclass(frozen=True)
class BuildResult:
    """What a build run did: ``embedded`` chunks now, ``already_stored`` by earlier (interrupted) runs."""

    meta: IndexMeta
    embedded: int
    already_stored: int
    seconds: float
    encode_seconds: float
    load_seconds: float = 0.0  # loading the model, part of ``seconds``

    @property
    def chunks_per_s(self) -> float:
        """Re-embedding throughput of this run (encode time only)."""
        return self.embedded / self.encode_seconds if self.encode_seconds > 0 else 0.0


def chunking_params(ws: Workspace) -> dict:
    """The ingest stage's chunking parameters from ``manifest.json`` ({} when the chunks came from elsewhere)."""
    record = ws.stage_record("ingest")
    return {k: record.params[k] for k in _CHUNKING_KEYS if k in record.params} if record else {}


def _check_chunks(chunks: list[Chunk], where: Path) -> None:
    if not chunks:
        raise EmbedtuneError(f"{where}: the workspace has no chunks to index")
    ids = [c.id for c in chunks]
    if len(set(ids)) != len(ids):
        raise EmbedtuneError(f"{where}: chunks.jsonl repeats chunk ids; re-run `embedtune ingest`")


def _resume_target(store: IndexStore, wanted: IndexMeta) -> IndexMeta | None:
    """The existing version of that name if it is the same build (else an error); None when there is none."""
    existing = {m.name: m for m in store.versions()}.get(wanted.name)
    if existing is None:
        return None
    differs = [
        what for what, a, b in (
            ("model", existing.model_hash, wanted.model_hash),
            ("dim", existing.dim, wanted.dim),
            ("corpus", existing.corpus_hash, wanted.corpus_hash),
            ("normalisation", existing.normalized, wanted.normalized),
            ("inference backend", existing.inference, wanted.inference),
        ) if a != b
    ]
    if differs:
        raise EmbedtuneError(
            f"index version {wanted.name!r} already exists in {store.uri} with another {', '.join(differs)}; "
            "choose another name (versions are never overwritten, so rollback stays possible)"
        )
    return existing


def _embed(model, texts: list[str], dim: int, model_dim: int, batch_size: int):
    vectors = encode_texts(model, texts, "document", batch_size=batch_size, normalize=True, progress=False)
    return _cut(vectors, dim, model_dim)


def _cut(vectors, dim: int, model_dim: int):
    """The index's Matryoshka prefix of full-width vectors."""
    return truncate_dims(vectors, dim) if dim < model_dim else vectors


def _encode_on_ray(model_path: Path, todo: list[Chunk], ws: Workspace, inference: str, address: str):
    """Vectors of the chunks still to store, from Ray actors at ``address``, cached in the workspace."""
    from embedtune.retrieval.embedding_cache import default_cache_dir
    from embedtune.retrieval.ray_encode import encode_corpus_ray

    t = time.perf_counter()
    out = encode_corpus_ray(model_path, chunk_documents(todo), default_cache_dir(ws.root),
                            inference=inference, address=address)
    console.print(f"encoded {len(todo):,} chunks on Ray in {time.perf_counter() - t:.1f}s", highlight=False)
    return out.vectors


def build_index(
    store: IndexStore | str | Path,
    name: str,
    model: str | Path,
    workspace: Workspace | str | Path,
    *,
    dim: int | None = None,
    batch_size: int = 256,
    backend: str | None = None,
    encode_batch_size: int = 64,
    on_batch: Callable[[int, int], None] | None = None,
    runner: Runner = LOCAL,
) -> BuildResult:
    """Embed ``workspace``'s chunks with ``model`` into version ``name`` of ``store`` (created or resumed).

    Args:
        store: an open store, or a store folder / Milvus URL (created when new).
        name: the version to build; an existing incomplete version of the same build is resumed.
        model: registry name, model folder or cached hub id.
        workspace: a workspace with ``chunks.jsonl`` (``embedtune ingest``).
        dim: stored dimension, a Matryoshka prefix (default: the model's full dim; larger is refused).
        batch_size: chunks per appended batch, the unit of resume.
        backend: for a new store folder: ``"lancedb"`` (default) or ``"milvus"``.
        encode_batch_size: texts per forward pass.
        on_batch: called as ``on_batch(stored, total)`` after each batch is stored (progress hooks, tests).
        runner: the encoding backend (``runner.inference``: ``torch``, ``torch-bf16``, ``onnx``, ``onnx-int8``,
            ``openvino``, ``openvino-bf16``; recorded in the version: a resumed build must use the same one) and
            where to encode (its Ray cluster, if any; default: this process, ``load_embedder``'s backend).
    """
    from embedtune.models import resolve_model

    t0 = time.perf_counter()
    validate_name(name)
    if batch_size < 1:
        raise EmbedtuneError(f"batch_size must be at least 1, got {batch_size}")
    if dim is not None and dim < 1:
        raise EmbedtuneError(f"dim must be at least 1, got {dim}")
    if backend is not None:
        check_backend(backend)
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    chunks = load_chunks(ws)
    _check_chunks(chunks, ws.root)

    model_path = resolve_model(model).resolve()
    t_load = time.perf_counter()
    encoder = runner.load_embedder(model_path)
    load_s = time.perf_counter() - t_load
    model_dim = int(encoder.get_embedding_dimension())
    if dim is not None and dim > model_dim:
        raise EmbedtuneError(f"dim={dim} is larger than the {model_dim} dimensions of model {model_path.name}")
    # Opened only now, so that refused input leaves no empty store behind.
    st = store if not isinstance(store, str | Path) else open_store(store, backend, create=True)
    wanted = IndexMeta(
        name=name, backend=st.backend, model_path=str(model_path), model_hash=model_fingerprint(model_path),
        dim=dim or model_dim, normalized=True, corpus_hash=corpus_hash(chunk_documents(chunks)),
        chunking=chunking_params(ws), created_at=utcnow(), model_dim=model_dim, expected=len(chunks),
        inference=inference_of(encoder),
    )
    existing = _resume_target(st, wanted)
    if existing is not None and existing.complete:
        console.print(f"index version {name!r} is already complete ({existing.count:,} chunks)", highlight=False)
        return BuildResult(existing, 0, existing.count, time.perf_counter() - t0, 0.0, load_s)
    version = st.open(name) if existing is not None else st.create(wanted)
    meta = existing or wanted

    stored = version.ids()
    wanted_ids = {c.id for c in chunks}
    if stray := stored - wanted_ids:  # cannot happen with the same corpus hash, unless written by someone else
        raise EmbedtuneError(f"index version {name!r} holds {len(stray):,} ids that are not chunks of {ws.root}")
    todo = [c for c in chunks if c.id not in stored]
    if stored:
        console.print(f"resuming {name!r}: {len(stored):,} of {len(chunks):,} chunks already stored", highlight=False)

    encode_s = 0.0
    precomputed = None
    if runner.ray_address is not None and todo:
        precomputed = _encode_on_ray(model_path, todo, ws, meta.inference, runner.ray_address)
    done = len(stored)
    with progress_bar() as bar:
        task = bar.add_task(f"index {name}", total=len(chunks), completed=done)
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            t = time.perf_counter()
            if precomputed is not None:
                vectors = _cut(precomputed[start : start + batch_size], meta.dim, model_dim)
            else:
                vectors = _embed(encoder, [c.text for c in batch], meta.dim, model_dim, encode_batch_size)
            encode_s += time.perf_counter() - t
            version.add([c.id for c in batch], vectors, [c.text for c in batch], [c.doc_id for c in batch],
                        [list(c.duplicate_doc_ids) for c in batch])
            done += len(batch)
            bar.advance(task, len(batch))
            if on_batch is not None:
                on_batch(done, len(chunks))

    meta = _verify(version, meta, wanted_ids)
    st.save_meta(meta)
    return BuildResult(meta, len(todo), len(stored), time.perf_counter() - t0, encode_s, load_s)


def _verify(version: IndexVersion, meta: IndexMeta, wanted_ids: set[str]) -> IndexMeta:
    """The meta marked complete, once the stored ids are exactly the chunk ids, each stored once."""
    version.finish()
    stored = version.ids()
    count = version.count()
    missing, extra, repeated = len(wanted_ids - stored), len(stored - wanted_ids), count - len(stored)
    if missing or extra or repeated:
        raise EmbedtuneError(
            f"index version {meta.name!r} failed its final check ({missing:,} chunks missing, {extra:,} unknown, "
            f"{repeated:,} stored twice); it stays incomplete: rerun the build to add what is missing"
        )
    return replace(meta, count=count, complete=True)
