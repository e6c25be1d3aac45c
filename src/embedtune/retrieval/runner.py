"""How a run encodes: which inference backend loads its models, and where the encoding runs (here or on Ray).

One :class:`Runner` is built by the CLI (``--inference``, ``--ray-address``) or by ``run_pipeline`` (the run
config's ``inference``) and handed to every stage that encodes: baseline and evaluation (through
:class:`~embedtune.retrieval.DenseRetriever`), mining, teaching, index builds and query generation's Ray path.
Nothing about it is process state, so two runs in one process (a notebook, a test) can encode differently.

Example::

    from embedtune.retrieval import Document
    from embedtune.retrieval.runner import Runner

    runner = Runner.configure("auto", ray_address=None)  # the fastest exact-enough backend on this CPU
    model = runner.load_embedder("all-MiniLM-L6-v2")
    vectors = runner.encode_corpus(model, [Document("d1", "some text")]).vectors
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from embedtune.encoding.base import check_inference, inference_of, model_path_of, resolved_inference
from embedtune.retrieval.base import Document
from embedtune.retrieval import embedding_cache
from embedtune.retrieval.embedding_cache import CorpusEmbeddings
from embedtune.scale import check_ray_address

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer


@dataclass(frozen=True)
class Runner:
    """An inference backend and a place to encode.

    Args:
        inference: the backend models load with (``torch``, ``onnx``, ...; see :mod:`embedtune.encoding`);
            None is :func:`~embedtune.models.load_embedder`'s own default (``$EMBEDTUNE_INFERENCE``, else torch).
        ray_address: a Ray cluster (``auto``, ``local``, ``HOST:PORT``, ``ray://HOST:PORT``) that encodes corpora
            and mining's queries and writes LLM queries; None keeps everything in this process. Results land in
            the same caches either way.
    """

    inference: str | None = None
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.inference is not None:
            check_inference(self.inference)
        if self.ray_address is not None:
            check_ray_address(self.ray_address)  # malformed: a one-line error now, before any work

    @classmethod
    def configure(cls, inference: str | None = None, ray_address: str | None = None) -> Runner:
        """The runner of a command: ``inference`` (None: ``$EMBEDTUNE_INFERENCE``, else torch) with ``auto``
        resolved for this CPU, so stage records and Ray actors see the real backend's name."""
        return cls(resolved_inference(inference), ray_address)

    def load_embedder(self, model: str | Path, **kwargs) -> SentenceTransformer:
        """:func:`embedtune.models.load_embedder` with this runner's backend."""
        from embedtune.models import load_embedder

        return load_embedder(model, inference=self.inference, **kwargs)

    def encode_corpus(self, model: SentenceTransformer, docs: Sequence[Document], cache_dir: str | Path | None = None,
                      *, model_hash: str | None = None, batch_size: int = 64, normalize: bool = True) -> CorpusEmbeddings:
        """:func:`~embedtune.retrieval.encode_corpus`; on Ray actors (into the same cache entry) when this runner
        has a cluster, the corpus is cacheable (``model_hash``) and the model was loaded from a folder."""
        if self.ray_address is not None and model_hash is not None and (path := model_path_of(model)) is not None:
            from embedtune.retrieval.ray_encode import encode_corpus_ray

            return encode_corpus_ray(path, docs, cache_dir, inference=inference_of(model), normalize=normalize,
                                     batch_size=batch_size, address=self.ray_address)
        return embedding_cache.encode_corpus(model, docs, cache_dir, model_hash=model_hash, batch_size=batch_size,
                                             normalize=normalize)

    def encode_texts(self, model: SentenceTransformer, texts: Sequence[str],
                     kind: Literal["query", "document"] = "query", batch_size: int = 64) -> np.ndarray:
        """:func:`~embedtune.retrieval.encode_texts` (normalised); on Ray actors when this runner has a cluster and
        the model was loaded from a folder (mining's queries: with offline signals there are more queries than
        chunks, see ``docs/scaling.md``)."""
        if self.ray_address is not None and (path := model_path_of(model)) is not None:
            from embedtune.retrieval.ray_encode import encode_texts_ray

            return encode_texts_ray(path, texts, kind, inference=inference_of(model), batch_size=batch_size,
                                    address=self.ray_address)
        return embedding_cache.encode_texts(model, texts, kind, batch_size)


LOCAL = Runner()
"""Everything in this process, models loaded with :func:`~embedtune.models.load_embedder`'s default backend."""
