"""One index version ready to serve: the open version, its own model, and (on demand) its BM25 index.

Every method here is synchronous and CPU-bound; the routes run them on the worker threads
(:mod:`embedtune.serving.workers`). A request keeps the runtime it started with, so a promotion that swaps
the served runtime mid-request never mixes two versions within one answer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from embedtune.index.base import Hit, IndexMeta, IndexVersion
from embedtune.index.model import embed_for
from embedtune.retrieval.dense import truncate_dims
from embedtune.retrieval.embedding_cache import encode_texts
from embedtune.serving.errors import ApiError
from embedtune.serving.lexical import LexicalIndex, fuse

HYBRID_DEPTH = 100  # candidates taken from each of dense and BM25 before fusion


@dataclass(frozen=True)
class Embedded:
    """Vectors in input order and the number of tokens the model read."""

    vectors: np.ndarray
    tokens: int


class VersionRuntime:
    """A version plus the model that made its vectors.

    Args:
        version: the open index version.
        model: its model (a SentenceTransformer), already verified against ``version.meta.model_hash``.
        adapter: the version's query adapter (:class:`embedtune.adapter.QueryAdapter`), for an adapter version:
            applied to every query vector (``/search``; ``/v1/embeddings`` with ``input_type: "query"``).
    """

    def __init__(self, version: IndexVersion, model, adapter=None) -> None:
        self.version = version
        self.meta: IndexMeta = version.meta
        self.model = model
        self.adapter = adapter
        self.model_dim: int = int(model.get_embedding_dimension())
        self._lexical: LexicalIndex | None = None
        self._lexical_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.meta.name

    def embed(
        self, texts: Sequence[str], dim: int | None = None, kind: Literal["query", "document"] = "document",
        max_tokens: int | None = None,
    ) -> Embedded:
        """Normalised vectors of ``texts`` cut to ``dim`` (default: the model's full width).

        Raises:
            ApiError: 413 when the model would read more than ``max_tokens`` tokens (counted before encoding).
        """
        tokens = self.count_tokens(texts)
        if max_tokens is not None and tokens > max_tokens:
            raise ApiError(
                413, f"the inputs come to {tokens:,} tokens for this model; the limit is {max_tokens:,} per request "
                "(max_tokens): send fewer or shorter inputs", param="input", code="too_many_tokens",
            )
        vectors = encode_texts(self.model, list(texts), kind, normalize=True, progress=False)
        if kind == "query" and self.adapter is not None:
            vectors = self.adapter.apply(vectors)
        if dim is not None and dim < vectors.shape[1]:
            vectors = truncate_dims(vectors, dim)
        return Embedded(vectors, tokens)

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the model reads for ``texts``: its own tokenizer, truncated to its max_seq_length."""
        features = self.model.preprocess(list(texts))
        mask = features.get("attention_mask")
        if mask is not None:
            return int(mask.sum())
        ids = features.get("input_ids")  # static models: one flat tensor of every text's token ids
        return int(ids.numel()) if ids is not None else 0

    def query_vector(self, query: str) -> np.ndarray:
        """The query as the index stores vectors: this version's model and query prompt, cut to ``meta.dim``."""
        return embed_for(self.model, self.meta, [query], "query", adapter=self.adapter)

    def search(self, query: str, k: int, mode: Literal["dense", "hybrid"] = "dense") -> list[Hit]:
        """The top ``k`` chunks for ``query``, best first."""
        vector = self.query_vector(query)
        if mode == "dense":
            return self.version.search(vector, k)[0]
        depth = max(k, HYBRID_DEPTH)
        lexical = self.lexical()
        return fuse(self.version.search(vector, depth)[0], lexical.top(query, depth), lexical, k)

    def lexical(self) -> LexicalIndex:
        """This version's BM25 index, built on first use (once, even under concurrent hybrid queries)."""
        with self._lexical_lock:
            if self._lexical is None:
                self._lexical = LexicalIndex(self.version.chunks())
            return self._lexical
