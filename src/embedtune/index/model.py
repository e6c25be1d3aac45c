"""A version's own model: load it from ``meta.model_path`` (refusing a changed one) and encode queries for it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.index.base import IndexMeta
from embedtune.retrieval.dense import truncate_dims
from embedtune.retrieval.embedding_cache import encode_texts, model_fingerprint


def check_version_model(meta: IndexMeta, path: Path) -> None:
    """``path`` must hold the model that made ``meta``'s vectors: a retrained or edited model (another content
    hash) gives other vectors. The one check for serving, shadow comparison and queries alike."""
    if not path.exists():
        raise EmbedtuneError(
            f"model folder {path} of index version {meta.name!r} is gone; restore it (or pass its new location)"
        )
    current = model_fingerprint(path)
    if current != meta.model_hash:
        raise EmbedtuneError(
            f"model {path} changed since index version {meta.name!r} was built ({meta.model_hash[:12]} -> "
            f"{current[:12]}): its vectors no longer match the model; rebuild the version or restore the model"
        )


def load_version_model(meta: IndexMeta, model_path: str | Path | None = None):  # -> SentenceTransformer
    """The model that made ``meta``'s vectors, from its recorded folder (or ``model_path`` if it moved)."""
    from embedtune.models import load_embedder

    path = Path(model_path or meta.model_path)
    check_version_model(meta, path)
    return load_embedder(path)


def load_version_adapter(meta: IndexMeta, adapter_path: str | Path | None = None):  # -> QueryAdapter | None
    """The query adapter of an adapter version (None for a plain one), refusing one whose content changed."""
    if not meta.query_adapter:
        return None
    from embedtune.adapter import QueryAdapter

    path = Path(adapter_path or meta.query_adapter)
    if not path.exists():
        raise EmbedtuneError(f"query adapter {path} of index version {meta.name!r} is gone; restore it")
    current = model_fingerprint(path)
    if current != meta.query_adapter_hash:
        raise EmbedtuneError(
            f"query adapter {path} changed since index version {meta.name!r} recorded it ({meta.query_adapter_hash[:12]} "
            f"-> {current[:12]}); attach the new adapter as a new version"
        )
    return QueryAdapter.load(path)


def embed_for(model, meta: IndexMeta, texts: Sequence[str], kind: str = "query", batch_size: int = 64,
              progress: bool = False, adapter=None) -> np.ndarray:
    """``texts`` as vectors comparable with ``meta``'s: encoded, cut to ``meta.dim`` and renormalised.

    ``adapter`` (the version's :class:`~embedtune.adapter.QueryAdapter`) maps query vectors, at full width, first.
    """
    if not texts:
        return np.zeros((0, meta.dim), dtype=np.float32)
    vectors = encode_texts(model, list(texts), kind,  # type: ignore[arg-type]
                           batch_size, normalize=True, progress=progress)
    if adapter is not None and kind == "query":
        vectors = adapter.apply(vectors)
    if vectors.shape[1] > meta.dim:
        vectors = truncate_dims(vectors, meta.dim)
    return vectors
