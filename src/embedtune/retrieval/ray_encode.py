"""Encode a corpus on a Ray cluster: Ray Data ``map_batches`` over an actor pool, each actor holding the model.

What it optimises: wall time of corpus encoding once one machine is not enough (millions of chunks). Texts are
sorted by length before they are split into blocks, so each actor batch pads little (the same global length
sort as :func:`embedtune.retrieval.encode_texts`); every actor loads the model once, with the same inference
backend as a local run. The result is the local path's artifact, byte for byte in layout: the same
``<cache_dir>/<key>.npy`` (float32, one row per document, in corpus order) under the same key, so every stage
reads it back as a cache hit and nothing downstream knows Ray was used. :func:`encode_texts_ray` runs the same
actors on plain texts (mining's queries), returning what :func:`embedtune.retrieval.encode_texts` would.

When to use it: corpora where encoding takes hours on one machine, with a Ray cluster (``ray start --head`` on
one node, ``ray start --address HEAD:6379`` on the others; ``--ray-address`` on the CLI). For a few hundred
thousand chunks one machine with ``--inference onnx-int8`` is simpler. Workers must have embedtune installed
and the model folder at the same path (or pass a shared path); nothing is downloaded.
Reference: https://docs.ray.io/en/latest/data/batch_inference.html
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.hashing import model_fingerprint
from embedtune.retrieval.base import Document
from embedtune.retrieval.embedding_cache import (
    USER_CACHE,
    CorpusEmbeddings,
    corpus_cache_key,
    load_corpus_embeddings,
    save_corpus_embeddings,
)
from embedtune.scale import actor_pool, connect_ray, ray_failure


class _EncoderActor:
    """One Ray actor: loads the model once, then encodes the blocks it is sent (as queries or as documents)."""

    def __init__(self, model_path: str, inference: str, batch_size: int, threads: int, normalize: bool,
                 kind: Literal["query", "document"]) -> None:
        from embedtune.models import load_embedder

        self.model = load_embedder(model_path, inference=inference, threads=threads)
        self.batch_size = batch_size
        self.normalize = normalize
        self.kind = kind

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from embedtune.retrieval.embedding_cache import encode_texts

        vectors = encode_texts(self.model, [str(t) for t in batch["text"]], self.kind, self.batch_size,
                               self.normalize, progress=False)
        return {"row": batch["row"], "vector": vectors}


def _encode_on_pool(
    path: Path, texts: Sequence[str], kind: Literal["query", "document"], *, inference: str, normalize: bool,
    batch_size: int, block_size: int, cpus_per_actor: int, num_actors: int | None, address: str | None,
) -> np.ndarray:
    """Vectors of ``texts`` (float32, input order) from a pool of :class:`_EncoderActor`."""
    import ray

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)  # what encode_texts returns for no texts
    connect_ray(address)
    n_blocks = max(1, -(-len(texts) // block_size))
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # long first: blocks of similar lengths
    ds = ray.data.from_items([{"row": i, "text": texts[i]} for i in order], override_num_blocks=n_blocks)
    encoded = ds.map_batches(
        _EncoderActor,
        fn_constructor_kwargs={"model_path": str(path), "inference": inference, "batch_size": batch_size,
                               "threads": cpus_per_actor, "normalize": normalize, "kind": kind},
        batch_size=block_size, batch_format="numpy",
        compute=actor_pool(cpus_per_actor, n_blocks, num_actors), num_cpus=cpus_per_actor,
    )
    vectors: np.ndarray | None = None
    seen = 0
    try:
        for batch in encoded.iter_batches(batch_size=block_size, batch_format="numpy"):
            block = np.asarray(batch["vector"], dtype=np.float32)
            if vectors is None:  # the width is the model's, known once the first block is back
                vectors = np.empty((len(texts), block.shape[1]), dtype=np.float32)
            vectors[batch["row"]] = block
            seen += len(batch["row"])
    except ray.exceptions.RayError as e:  # e.g. the model does not load on a worker
        raise ray_failure(e) from None
    if vectors is None or seen != len(texts):  # a lost block would otherwise leave uninitialised rows
        raise EmbedtuneError(f"Ray returned {seen:,} vectors for {len(texts):,} texts")
    return vectors


def encode_texts_ray(
    model: str | Path,
    texts: Sequence[str],
    kind: Literal["query", "document"] = "query",
    *,
    inference: str | None = None,
    normalize: bool = True,
    batch_size: int = 64,
    block_size: int = 1024,
    cpus_per_actor: int = 1,
    num_actors: int | None = None,
    address: str | None = None,
) -> np.ndarray:
    """What :func:`embedtune.retrieval.encode_texts` returns for ``texts``, computed by a pool of Ray actors.

    Nothing is cached (the local path caches no query vectors either). Mining uses it for its queries with
    ``--ray-address``: with offline signals on every chunk there are more queries than chunks, and once the corpus
    is encoded on a cluster, encoding them on one machine would be the slowest step. Arguments as in
    :func:`encode_corpus_ray`; ``kind`` picks the model's query or document prompt.
    """
    from embedtune.encoding import default_inference
    from embedtune.models import resolve_model

    return _encode_on_pool(
        resolve_model(model).resolve(), texts, kind, inference=inference or default_inference(),
        normalize=normalize, batch_size=batch_size, block_size=block_size, cpus_per_actor=cpus_per_actor,
        num_actors=num_actors, address=address,
    )


def encode_corpus_ray(
    model: str | Path,
    docs: Sequence[Document],
    cache_dir: str | Path | None = None,
    *,
    inference: str | None = None,
    normalize: bool = True,
    batch_size: int = 64,
    block_size: int = 1024,
    cpus_per_actor: int = 1,
    num_actors: int | None = None,
    address: str | None = None,
) -> CorpusEmbeddings:
    """Embeddings of ``docs`` computed by a pool of Ray actors, stored exactly as :func:`encode_corpus` stores them.

    Args:
        model: registry name, model folder or cached hub id (a path every Ray node can read).
        docs: the corpus, in the order rows should have.
        cache_dir: where the ``.npy`` entry goes (None: the user cache); an existing entry is read back.
        inference: encoding backend of every actor (None: the process default).
        normalize: L2-normalise rows.
        batch_size: texts per forward pass inside an actor.
        block_size: texts per Ray task (the unit of scheduling and of retry).
        cpus_per_actor: CPUs reserved per actor, and its intra-op threads.
        num_actors: actors in the pool; None fills the cluster's CPUs.
        address: Ray address (None: a local instance); ignored if Ray is initialised.
    """
    from embedtune.encoding import default_inference, vectors_tag
    from embedtune.models import load_embedder, resolve_model

    path = resolve_model(model).resolve()
    name = inference or default_inference()
    # The driver loads the model too: its max_seq_length and effective backend are part of the cache key, and
    # an ONNX export made here is reused by actors on this machine.
    probe = load_embedder(path, inference=name)
    key = corpus_cache_key(model_fingerprint(path), docs, probe.max_seq_length, normalize, vectors_tag(probe))
    root = Path(cache_dir) if cache_dir is not None else USER_CACHE
    target = root / f"{key}.npy"
    ids = [d.id for d in docs]
    if (cached := load_corpus_embeddings(target, ids)) is not None:
        return cached
    del probe

    vectors = _encode_on_pool(
        path, [d.full_text for d in docs], "document", inference=name, normalize=normalize, batch_size=batch_size,
        block_size=block_size, cpus_per_actor=cpus_per_actor, num_actors=num_actors, address=address,
    )
    return save_corpus_embeddings(target, root, ids, vectors)
