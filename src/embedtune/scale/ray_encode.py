"""Encode a corpus on a Ray cluster: Ray Data ``map_batches`` over an actor pool, each actor holding the model.

What it optimises: wall time of corpus encoding once one machine is not enough (millions of chunks). Texts are
sorted by length before they are split into blocks, so each actor batch pads little (the same global length
sort as :func:`embedtune.retrieval.encode_texts`); every actor loads the model once, with the same inference
backend as a local run. The result is the local path's artifact, byte for byte in layout: the same
``<cache_dir>/<key>.npy`` (float32, one row per document, in corpus order) under the same key, so every stage
reads it back as a cache hit and nothing downstream knows Ray was used.

When to use it: corpora where encoding takes hours on one machine, with a Ray cluster (``ray start --head`` on
one node, ``ray start --address HEAD:6379`` on the others; ``--ray-address`` on the CLI). For a few hundred
thousand chunks one machine with ``--inference onnx-int8`` is simpler. Workers must have embedtune installed
and the model folder at the same path (or pass a shared path); nothing is downloaded.
Reference: https://docs.ray.io/en/latest/data/batch_inference.html
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.retrieval.base import Document
from embedtune.retrieval.embedding_cache import (
    USER_CACHE,
    CorpusEmbeddings,
    corpus_cache_key,
    load_corpus_embeddings,
    model_fingerprint,
    save_corpus_embeddings,
)

_address: str | None = None


def set_ray_address(address: str | None) -> None:
    """Encode corpora on Ray from now on (``"auto"``, ``"ray://host:10001"``, ``"local"``); None turns it off."""
    global _address
    _address = address


def ray_address() -> str | None:
    """The address set by :func:`set_ray_address` (``--ray-address``), None when corpora encode locally."""
    return _address


class _EncoderActor:
    """One Ray actor: loads the model once, then encodes the blocks it is sent."""

    def __init__(self, model_path: str, inference: str, batch_size: int, threads: int, normalize: bool) -> None:
        from embedtune.models import load_embedder

        self.model = load_embedder(model_path, inference=inference, threads=threads)
        self.batch_size = batch_size
        self.normalize = normalize

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from embedtune.retrieval.embedding_cache import encode_texts

        vectors = encode_texts(self.model, [str(t) for t in batch["text"]], "document", self.batch_size,
                               self.normalize, progress=False)
        return {"row": batch["row"], "vector": vectors}


def _connect(address: str | None) -> None:
    import ray

    if ray.is_initialized():
        return
    try:
        ray.init(address=None if address in (None, "local") else address, include_dashboard=False,
                 log_to_driver=False)
    except ConnectionError as e:
        raise EmbedtuneError(f"cannot reach the Ray cluster at {address!r} ({e})") from None


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
        address: Ray address (None: :func:`ray_address`, else a local instance); ignored if Ray is initialised.
    """
    import ray

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
    dim = int(probe.get_embedding_dimension())
    del probe

    _connect(address or _address)
    if num_actors is None:
        num_actors = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    texts = [d.full_text for d in docs]
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # long first: blocks of similar lengths
    items = [{"row": i, "text": texts[i]} for i in order]
    ds = ray.data.from_items(items, override_num_blocks=max(1, -(-len(items) // block_size)))
    encoded = ds.map_batches(
        _EncoderActor,
        fn_constructor_kwargs={"model_path": str(path), "inference": name, "batch_size": batch_size,
                               "threads": cpus_per_actor, "normalize": normalize},
        batch_size=block_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=num_actors),
        num_cpus=cpus_per_actor,
    )
    vectors = np.empty((len(docs), dim), dtype=np.float32)
    seen = 0
    for batch in encoded.iter_batches(batch_size=block_size, batch_format="numpy"):
        vectors[batch["row"]] = np.asarray(batch["vector"], dtype=np.float32)
        seen += len(batch["row"])
    if seen != len(docs):
        raise EmbedtuneError(f"Ray returned {seen:,} vectors for {len(docs):,} documents")
    return save_corpus_embeddings(target, root, ids, vectors)
