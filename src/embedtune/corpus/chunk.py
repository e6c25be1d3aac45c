"""The artifact of ingestion: one retrievable chunk of a source document (a line of ``chunks.jsonl``)."""

from __future__ import annotations

from pydantic import BaseModel


class Chunk(BaseModel):
    """A passage as stored in ``chunks.jsonl``; ``id`` is stable: same document content, same id."""

    id: str
    doc_id: str
    title: str = ""
    text: str
    source: str
    start_char: int
    end_char: int
    page: int | None = None
    n_tokens: int
