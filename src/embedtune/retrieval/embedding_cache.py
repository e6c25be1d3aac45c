"""Encode a corpus once per (model, corpus) and reuse the vectors in every stage: eval, baseline, mining.

Corpus embeddings dominate the cost of evaluating a dense model on CPU (minutes for SciFact's 5,183 abstracts
with all-MiniLM-L6-v2 on two cores), and the same matrix is needed again by hard-negative mining and by every
re-evaluation. They are stored as ``<cache_dir>/<key>.npy`` (float32, one row per document, in corpus order),
where the key hashes the model's *content* (every file of its folder), the corpus content and order, the
max_seq_length, the normalisation and, for backends whose vectors differ from fp32 (``torch-bf16``,
``onnx-int8``; see :mod:`embedtune.encoding`), the inference backend: a retrained model or an edited document gets a fresh entry, and a stale
matrix can never be read back. Files are written atomically, so an interrupted encode leaves no half file.

Encoding sorts texts by length (long first) so each batch pads little, runs under ``torch.inference_mode`` (and
the model's inference backend, e.g. bf16 autocast) in batches of 64, and shows one rich progress bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from embedtune.errors import EmbedtuneError
# model_fingerprint is re-exported: stages import it from here (embedtune.hashing is its home).
from embedtune.hashing import model_fingerprint, sha256_json  # noqa: F401
from embedtune.progress import progress_bar
from embedtune.retrieval.base import Document, corpus_hash
from embedtune.workspace.atomic import atomic_write

USER_CACHE = Path.home() / ".cache" / "embedtune" / "embeddings"
_FORMAT = 1  # bump when the stored layout changes, so old entries are ignored


@dataclass(frozen=True)
class CorpusEmbeddings:
    """Corpus vectors, row ``i`` for ``ids[i]``; ``cache_hit`` says whether they were read back, not encoded."""

    ids: list[str]
    vectors: np.ndarray
    cache_hit: bool
    path: Path | None


def default_cache_dir(workspace: str | Path | None = None) -> Path:
    """``<workspace>/cache/embeddings`` when a workspace is given, else ``~/.cache/embedtune/embeddings``."""
    return Path(workspace) / "cache" / "embeddings" if workspace is not None else USER_CACHE


def encode_texts(
    model,
    texts: Sequence[str],
    kind: Literal["query", "document"] = "document",
    batch_size: int = 64,
    normalize: bool = True,
    description: str | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Embed ``texts`` (float32, input order) with the model's query or document prompt, if it defines one.

    ``progress=False`` shows no bar, for callers that already show one (rich allows one live display).
    """
    import torch

    from embedtune.encoding import backend_of

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    encode = model.encode_query if kind == "query" else model.encode_document
    # Longest first, globally: batches pad little, and the progress bar's ETA is pessimistic, not optimistic.
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out: np.ndarray | None = None
    step = batch_size * 4  # a few batches per progress update
    backend = backend_of(model)
    with progress_bar(transient=True, disable=not progress) as bar, torch.inference_mode(), backend.context():
        task = bar.add_task(description or f"encoding {len(texts):,} {kind}s", total=len(texts))
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            vecs = encode(
                [texts[i] for i in idx], batch_size=batch_size, normalize_embeddings=normalize,
                convert_to_numpy=True, show_progress_bar=False,
            ).astype(np.float32, copy=False)
            if normalize and backend.changes_vectors:  # unit length in fp32, not in the reduced precision
                vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
            bar.advance(task, len(idx))
    assert out is not None
    return out


def corpus_cache_key(
    model_hash: str, docs: Sequence[Document], max_seq_length: int | None, normalize: bool,
    inference: str | None = None,
) -> str:
    """The cache entry name for these inputs; ``inference`` names a backend whose vectors differ from fp32."""
    key = {"format": _FORMAT, "model": model_hash, "corpus": corpus_hash(docs),
           "max_seq_length": max_seq_length, "normalize": normalize}
    if inference is not None:  # absent for fp32, so entries written before backends existed stay valid
        key["inference"] = inference
    return sha256_json(key)[:40]


def encode_corpus(
    model,
    docs: Sequence[Document],
    cache_dir: str | Path | None = None,
    *,
    model_hash: str | None = None,
    batch_size: int = 64,
    normalize: bool = True,
) -> CorpusEmbeddings:
    """Embeddings of ``docs`` (title + body) with a SentenceTransformer, read from the cache when present.

    Args:
        model: a loaded SentenceTransformer.
        docs: the corpus, in the order rows should have.
        cache_dir: where entries live (see :func:`default_cache_dir`); None uses the user cache.
        model_hash: content hash of the model (:func:`model_fingerprint` of its folder). Without it the model's
            identity is unknown (e.g. an unsaved model in the middle of training), so nothing is cached.
        batch_size: texts per forward pass.
        normalize: L2-normalise rows (cosine similarity becomes a dot product).

    This process encodes; :meth:`embedtune.retrieval.runner.Runner.encode_corpus` sends a cacheable corpus to
    Ray actors instead (:func:`embedtune.retrieval.ray_encode.encode_corpus_ray`), into the same cache entry.
    """
    ids = [d.id for d in docs]
    texts = [d.full_text for d in docs]
    if model_hash is None:
        return CorpusEmbeddings(ids, encode_texts(model, texts, "document", batch_size, normalize), False, None)
    from embedtune.encoding import vectors_tag

    root = Path(cache_dir) if cache_dir is not None else USER_CACHE
    path = root / f"{corpus_cache_key(model_hash, docs, model.max_seq_length, normalize, vectors_tag(model))}.npy"
    if (cached := load_corpus_embeddings(path, ids)) is not None:
        return cached
    vectors = encode_texts(model, texts, "document", batch_size, normalize)
    return save_corpus_embeddings(path, root, ids, vectors)


def load_corpus_embeddings(path: Path, ids: list[str]) -> CorpusEmbeddings | None:
    """The cache entry at ``path`` when it holds one row per id; None when absent or unreadable (disk trouble,
    a foreign file), so the caller encodes again and overwrites it."""
    if not path.exists():
        return None
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return CorpusEmbeddings(ids, vectors, cache_hit=True, path=path) if vectors.shape[0] == len(ids) else None


def save_corpus_embeddings(path: Path, root: Path, ids: list[str], vectors: np.ndarray) -> CorpusEmbeddings:
    """Write a cache entry atomically (local and Ray encoding share the format) and return it."""
    try:
        with atomic_write(path, "wb") as f:
            np.save(f, vectors, allow_pickle=False)
    except OSError as e:
        raise EmbedtuneError(f"{root}: cannot write the embedding cache ({e.strerror or e})") from None
    return CorpusEmbeddings(ids, vectors, cache_hit=False, path=path)

