"""Plain text and Markdown files: one document each; a Markdown file's first ``# `` heading is its title."""

from __future__ import annotations

import re

from embedtune.corpus.config import IngestConfig
from embedtune.corpus.decoding import read_text
from embedtune.corpus.document import Document, Loaded, SourceFile

_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _not_utf8(encoding: str) -> str | None:
    return None if encoding == "utf-8" else encoding


def load_text(file: SourceFile, config: IngestConfig) -> Loaded:
    text, encoding = read_text(file.path, config.encoding)
    return Loaded([Document(file.doc_id, text, file.source)], encoding=_not_utf8(encoding))


def load_markdown(file: SourceFile, config: IngestConfig) -> Loaded:
    text, encoding = read_text(file.path, config.encoding)
    h1 = _H1.search(text)
    doc = Document(file.doc_id, text, file.source, title=h1.group(1) if h1 else "", markdown=True)
    return Loaded([doc], encoding=_not_utf8(encoding))
