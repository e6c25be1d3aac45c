"""The index layer's contract: versions of a vector index, each tied to the model that produced its vectors.

A *store* (a directory for the embedded LanceDB backend, a directory or server URL for Milvus) holds named
index versions side by side and one alias, ``live``, that readers follow. Switching models means building a
new version beside the live one, shadow-comparing the two, then promoting (an atomic alias switch) and, if
needed, rolling back to the previous version, whose data is kept.

Every version records what made its vectors (:class:`IndexMeta`); searching it with vectors of another model
is refused (:meth:`IndexVersion.check_model`), because vectors of two models share no space.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

import numpy as np

from embedtune.errors import EmbedtuneError

LIVE = "live"
BACKENDS = ("lancedb", "milvus")
# Milvus collection names are the stricter rule (letters, digits, "_"); one rule keeps names portable.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")


@dataclass(frozen=True)
class IndexMeta:
    """What produced a version's vectors. Two versions are comparable only through their own models."""

    name: str
    backend: str  # "lancedb" | "milvus"
    model_path: str
    model_hash: str  # content hash of the model folder (embedtune.retrieval.embedding_cache.model_fingerprint)
    dim: int  # stored dim (a Matryoshka prefix of the model's output when smaller)
    normalized: bool
    corpus_hash: str  # hash of the chunk ids + texts embedded
    chunking: dict = field(default_factory=dict)  # ingest parameters of the chunks (size, overlap, tokenizer)
    count: int = 0
    created_at: str = ""
    complete: bool = False  # a build that was interrupted stays incomplete and is never promoted
    model_dim: int = 0  # the model's full output dim (0: unknown); dim <= model_dim
    expected: int = 0  # chunks the build will store (count reaches it when complete)
    inference: str = "torch"  # the backend that encoded the vectors (embedtune.encoding); one per version
    # A query-adapter version (embedtune.index.adapter): queries go through the adapter folder at this path,
    # whose content hash is recorded; the vectors are those of version ``vectors_of``, never copied.
    query_adapter: str = ""
    query_adapter_hash: str = ""
    vectors_of: str = ""

    @property
    def table(self) -> str:
        """The table (collection) holding this version's vectors: its own, or the one an adapter version reuses."""
        return self.vectors_of or self.name

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexMeta:
        """Inverse of :meth:`to_json`; keys this version does not know are ignored (newer writers)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Hit:
    """One search result: a chunk id, its score (cosine for normalised vectors) and its text.

    ``duplicate_doc_ids`` are documents whose identical chunk ingest dropped for this one (they match too).
    """

    id: str
    score: float
    text: str = ""
    doc_id: str = ""
    duplicate_doc_ids: tuple[str, ...] = ()


def validate_name(name: str) -> str:
    """``name`` if it can name a version in every backend, else a one-line EmbedtuneError."""
    if name == LIVE:
        raise EmbedtuneError(f"{LIVE!r} is the alias readers follow; give the version its own name")
    if not _NAME.fullmatch(name):
        raise EmbedtuneError(
            f"invalid version name {name!r}: use letters, digits and '_', starting with a letter (at most 128)"
        )
    return name


def check_model_hash(meta: IndexMeta, model_hash: str) -> None:
    """The shared body of :meth:`IndexVersion.check_model`."""
    if model_hash != meta.model_hash:
        raise EmbedtuneError(
            f"index version {meta.name!r} holds vectors of model {meta.model_path} ({meta.model_hash[:12]}), "
            f"not of model {model_hash[:12]}: vectors of two models are not comparable; query it with its own model"
        )


def check_query_dim(meta: IndexMeta, vectors: np.ndarray) -> None:
    """Query vectors must have the stored width (truncate them to ``meta.dim`` first)."""
    if vectors.ndim != 2 or vectors.shape[1] != meta.dim:
        got = vectors.shape[1] if vectors.ndim == 2 else f"shape {vectors.shape}"
        raise EmbedtuneError(f"query vectors have {got} dims; index version {meta.name!r} stores {meta.dim}")


@runtime_checkable
class IndexVersion(Protocol):
    """One built version of an index, open for reading and (while building) for adding rows."""

    meta: IndexMeta

    def search(self, vectors: np.ndarray, k: int = 10) -> list[list[Hit]]:
        """Top-``k`` hits for each row of ``vectors`` (already truncated to ``meta.dim`` and normalised)."""
        ...

    def ids(self) -> set[str]:
        """Every chunk id stored (for resume and count checks)."""
        ...

    def check_model(self, model_hash: str) -> None:
        """Raise EmbedtuneError naming both models when ``model_hash`` is not the model of this version."""
        ...

    def count(self) -> int:
        """Rows stored now (duplicates counted, so ``count() == len(ids())`` checks for them)."""
        ...

    def chunks(self) -> list[Hit]:
        """Every stored chunk (id, text, doc ids; score 0), e.g. to build a lexical index beside it."""
        ...

    def add(self, ids: list[str], vectors: np.ndarray, texts: list[str], doc_ids: list[str],
            duplicate_doc_ids: list[list[str]]) -> None:
        """Append one batch of rows atomically (all of it is stored, or none)."""
        ...

    def finish(self) -> None:
        """End of a build: make the rows durable and compact (no reader uses a version still building)."""
        ...

    def disk_bytes(self) -> int | None:
        """Bytes this version takes on disk, or None where the backend cannot say (a remote server)."""
        ...


class IndexStore(Protocol):
    """The versions of one store and its ``live`` alias."""

    backend: str
    uri: str

    def versions(self) -> list[IndexMeta]: ...

    def open(self, name: str = LIVE) -> IndexVersion:
        """A version by name, or the one the ``live`` alias points to; EmbedtuneError if unknown."""
        ...

    def live_name(self) -> str | None: ...

    def promote(self, name: str) -> None:
        """Point ``live`` at ``name`` atomically (readers see the old or the new version, never a mix)."""
        ...

    def rollback(self) -> str:
        """Point ``live`` back at the version it pointed to before the last promote; returns its name."""
        ...

    def create(self, meta: IndexMeta) -> IndexVersion:
        """A new, empty, incomplete version described by ``meta`` (its name must be free)."""
        ...

    def save_meta(self, meta: IndexMeta) -> None:
        """Replace the recorded meta of version ``meta.name`` (e.g. to mark it complete)."""
        ...

    def history(self) -> list[str]:
        """Versions ``live`` pointed to before, oldest first: where rollbacks go, last one first."""
        ...
