"""What loaders produce: documents (or PDF pages) of extracted text, before chunking."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embedtune.corpus.skips import Skipped


@dataclass(frozen=True)
class SourceFile:
    """One input file as discovered: where it is, how it is named in ids, and which loader reads it.

    ``doc_id`` is the path relative to the folder given on the command line, and ``source`` the same
    prefixed by that folder's name: both stay the same on every machine, unlike absolute paths.
    """

    path: Path
    doc_id: str
    source: str
    kind: str


@dataclass(frozen=True)
class Document:
    """Extracted text of one document (a whole file, one JSONL record, or one PDF page)."""

    doc_id: str
    text: str
    source: str
    title: str = ""
    page: int | None = None
    markdown: bool = False  # split at markdown headings (md and html) rather than plain-text boundaries


@dataclass
class Loaded:
    """A loader's result: documents, the encoding when it was not UTF-8, and records it skipped."""

    documents: list[Document]
    encoding: str | None = None
    problems: list[Skipped] = field(default_factory=list)
    empty_records: int = 0
