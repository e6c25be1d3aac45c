"""Dense retrieval: embed queries and documents with a sentence-transformers model, rank by cosine similarity.

What it optimises: semantic closeness as the model learned it, so it finds paraphrases BM25 misses and misses
domain terms the model never saw (which fine-tuning fixes). Search is exact (brute force over L2-normalised
vectors, a dot product per pair), computed in blocks of queries so memory stays bounded for large corpora.

Matryoshka truncation: ``dim`` keeps the first ``dim`` coordinates of every vector and re-normalises them, the
way models trained with MatryoshkaLoss are meant to be used (Kusupati et al., "Matryoshka Representation
Learning", NeurIPS 2022). Use :meth:`DenseRetriever.truncated` to get several dimensions from one encoding.

Reference: Reimers & Gurevych, "Sentence-BERT" (EMNLP 2019); Karpukhin et al., "Dense Passage Retrieval" (2020).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.hashing import model_fingerprint
from embedtune.retrieval.base import Document, Retriever, Run, corpus_hash
from embedtune.retrieval.embedding_cache import CorpusEmbeddings, encode_texts
from embedtune.retrieval.runner import LOCAL, Runner

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

SCORE_BUDGET = 1 << 25  # floats in one block of query x document scores (128 MiB)


def model_display_name(name_or_path: str | Path) -> str:
    """The registry name for a registered model, else the folder (or hub id) name."""
    from embedtune.models.registry import registry_spec

    spec = registry_spec(str(name_or_path))
    return spec.name if spec is not None else Path(str(name_or_path).rstrip("/")).name


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def truncate_dims(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Matryoshka truncation: the first ``dim`` coordinates, re-normalised."""
    if not 1 <= dim <= vectors.shape[1]:
        raise EmbedtuneError(f"dimension {dim} is out of range: the model gives {vectors.shape[1]}-dimensional vectors")
    return np.ascontiguousarray(normalize_rows(vectors[:, :dim]), dtype=np.float32)


def exact_search(query_vecs: np.ndarray, doc_vecs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` (indices, scores) by dot product, best first; blocks of queries keep memory bounded."""
    n_docs = doc_vecs.shape[0]
    k = min(k, n_docs)
    block = max(1, SCORE_BUDGET // max(n_docs, 1))
    all_idx = np.empty((len(query_vecs), k), dtype=np.int64)
    all_scores = np.empty((len(query_vecs), k), dtype=np.float32)
    for start in range(0, len(query_vecs), block):
        scores = query_vecs[start : start + block] @ doc_vecs.T
        if k < n_docs:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(n_docs), (len(scores), 1))
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        all_idx[start : start + block] = np.take_along_axis(top, order, axis=1)
        all_scores[start : start + block] = np.take_along_axis(top_scores, order, axis=1)
    return all_idx, all_scores


@dataclass
class _Shared:
    """What every truncated view of one model shares: the model, its corpus vectors, the last queries' vectors."""

    model: SentenceTransformer
    model_hash: str | None
    display: str
    cache_dir: Path | None
    batch_size: int
    runner: Runner = LOCAL
    corpus: CorpusEmbeddings | None = None
    corpus_key: str | None = None
    by_dim: dict[int, np.ndarray] = field(default_factory=dict)
    last_queries: tuple[tuple[str, ...], np.ndarray] | None = None


class DenseRetriever(Retriever):
    """Exact cosine search with any sentence-transformers model, optionally Matryoshka-truncated.

    Args:
        model: a registry name (e.g. "all-MiniLM-L6-v2"), a model folder, a cached hub id, or a loaded
            SentenceTransformer (pass ``model_hash`` with the latter to enable the embedding cache).
        label: the model's name in system names; default the registry or folder name.
        dim: keep the first ``dim`` dimensions (re-normalised); None keeps all.
        cache_dir: embedding cache folder; None uses ``~/.cache/embedtune/embeddings``.
        cache: False never reads or writes the embedding cache.
        batch_size: texts per forward pass.
        name: system name in reports; default ``dense:<model>@<dim>``.
        runner: loads a named model (its inference backend) and encodes the corpus (here, or on its Ray
            cluster); default: this process, ``load_embedder``'s default backend.
    """

    def __init__(
        self,
        model: str | Path | SentenceTransformer = "all-MiniLM-L6-v2",
        dim: int | None = None,
        *,
        label: str | None = None,
        cache_dir: str | Path | None = None,
        cache: bool = True,
        model_hash: str | None = None,
        batch_size: int = 64,
        name: str | None = None,
        runner: Runner = LOCAL,
    ) -> None:
        if isinstance(model, (str, Path)):
            from embedtune.models import resolve_model

            display = label or model_display_name(model)
            path = resolve_model(model)
            loaded = runner.load_embedder(model)
            model_hash = model_hash or model_fingerprint(path)
        else:
            loaded, display = model, label or "model"
        self._shared = _Shared(
            loaded, model_hash if cache else None, display, Path(cache_dir) if cache_dir else None, batch_size, runner
        )
        self._init_view(dim, name)

    def _init_view(self, dim: int | None, name: str | None) -> None:
        full = self.full_dim
        self.dim = full if dim is None else dim
        if not 1 <= self.dim <= full:
            raise EmbedtuneError(
                f"dimension {self.dim} is out of range for {self._shared.display} (1..{full}): "
                f"Matryoshka truncation can only shorten vectors"
            )
        self.name = name or f"dense:{self._shared.display}@{self.dim}"

    @property
    def label(self) -> str:
        """The model's display name (registry or folder name), without the dimension."""
        return self._shared.display

    @property
    def model(self) -> SentenceTransformer:
        """The underlying SentenceTransformer."""
        return self._shared.model

    @property
    def full_dim(self) -> int:
        """The model's own embedding dimension."""
        dim = self._shared.model.get_embedding_dimension()
        if dim is None:
            raise EmbedtuneError(f"{self._shared.display}: the model does not declare its embedding dimension")
        return int(dim)

    @property
    def corpus_embeddings(self) -> CorpusEmbeddings | None:
        """Full-dimension corpus vectors after :meth:`index` (with the cache-hit flag)."""
        return self._shared.corpus

    def truncated(self, dim: int, name: str | None = None) -> DenseRetriever:
        """A view of the same model and index at ``dim`` dimensions; nothing is re-encoded."""
        view = object.__new__(DenseRetriever)
        view._shared = self._shared
        view._init_view(dim, name)
        return view

    def index(self, docs: Sequence[Document]) -> None:
        """Encode ``docs`` (or read them from the cache); a no-op when this corpus is already indexed."""
        if not docs:
            raise EmbedtuneError("cannot build a dense index over an empty corpus")
        s = self._shared
        key = corpus_hash(docs)
        if key == s.corpus_key:
            return
        s.corpus = s.runner.encode_corpus(s.model, docs, s.cache_dir, model_hash=s.model_hash, batch_size=s.batch_size)
        s.corpus_key, s.by_dim = key, {}

    def _doc_matrix(self) -> np.ndarray:
        s = self._shared
        if s.corpus is None:
            raise EmbedtuneError("DenseRetriever.search called before index()")
        if self.dim not in s.by_dim:
            s.by_dim[self.dim] = truncate_dims(s.corpus.vectors, self.dim)
        return s.by_dim[self.dim]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Full-dimension, normalised query vectors; the last batch is remembered for the other dimensions."""
        s = self._shared
        key = tuple(texts)
        if s.last_queries is None or s.last_queries[0] != key:
            vecs = encode_texts(s.model, list(texts), "query", s.batch_size, normalize=True)
            s.last_queries = (key, vecs)
        return s.last_queries[1]

    def search(self, queries: Mapping[str, str], k: int = 100) -> Run:
        """Top-``k`` documents per query by cosine similarity at this view's dimension."""
        docs = self._doc_matrix()
        qids = list(queries)
        if not qids:
            return {}
        qvecs = truncate_dims(self.encode_queries([queries[q] for q in qids]), self.dim)
        idx, scores = exact_search(qvecs, docs, k)
        ids = self._shared.corpus.ids  # type: ignore[union-attr]
        return {q: {ids[j]: float(v) for j, v in zip(idx[i], scores[i])} for i, q in enumerate(qids)}
