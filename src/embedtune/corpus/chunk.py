"""The artifact of ingestion: one retrievable chunk of a source document (a line of ``chunks.jsonl``).

The row model itself lives with the workspace's other row models (:mod:`embedtune.workspace.rows`); it is
re-exported here, where ingestion makes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from embedtune.retrieval.base import Document
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import CHUNKS
from embedtune.workspace.rows import Chunk

__all__ = ["Chunk", "chunk_documents", "load_chunks"]


def load_chunks(workspace: Workspace | str | Path) -> list[Chunk]:
    """The chunks written by ``embedtune ingest`` into ``workspace``."""
    return CHUNKS.read(workspace)


def chunk_documents(chunks: Sequence[Chunk]) -> list[Document]:
    """The chunks as retrievable documents: a chunk's ``text`` is exactly what gets embedded and searched."""
    return [Document(id=c.id, text=c.text) for c in chunks]
