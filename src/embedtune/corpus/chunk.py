"""The artifact of ingestion: one retrievable chunk of a source document (a line of ``chunks.jsonl``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from embedtune.errors import EmbedtuneError
from embedtune.workspace import Workspace, read_jsonl

CHUNKS_FILE = "chunks.jsonl"


class Chunk(BaseModel):
    """A passage as stored in ``chunks.jsonl``; ``id`` is stable: same document content, same id.

    ``text`` is exactly what gets embedded: with ``title_included`` it is ``"<title>\\n<body>"``.
    ``start_char``/``end_char`` locate the body in the document's extracted text (of ``page`` for PDFs).
    """

    id: str
    doc_id: str
    title: str = ""
    text: str
    source: str
    start_char: int
    end_char: int
    page: int | None = None
    n_tokens: int = Field(description="tokens of `text` as the model sees it, special tokens included")
    title_included: bool = False
    duplicate_doc_ids: list[str] = Field(
        default_factory=list, description="documents whose identical or near-identical chunk was dropped for this one"
    )

    @property
    def doc_ids(self) -> list[str]:
        """Every document this chunk stands for: its own first, then those whose copy ingest dropped for it.

        The one chunk -> documents mapping: the split keeps a chunk out of training when any of these is held
        out, and evaluation credits a hit on it to all of them.
        """
        return [self.doc_id, *self.duplicate_doc_ids]

    @property
    def body(self) -> str:
        """The passage without the title line."""
        return self.text.split("\n", 1)[1] if self.title_included else self.text


def load_chunks(workspace: Workspace | str | Path) -> list[Chunk]:
    """The chunks written by ``embedtune ingest`` into ``workspace``."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    path = ws.path(CHUNKS_FILE)
    if not path.exists():
        raise EmbedtuneError(f"{path}: no chunks yet; run `embedtune ingest PATH --workspace {ws.root}` first")
    return [Chunk.model_validate(row) for row in read_jsonl(path)]
