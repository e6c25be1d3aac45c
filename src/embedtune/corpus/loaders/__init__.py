"""One loader per input format; each turns a file into documents or raises Skipped with the reason."""

from __future__ import annotations

from collections.abc import Callable

from embedtune.corpus.config import IngestConfig
from embedtune.corpus.document import Loaded, SourceFile
from embedtune.corpus.loaders.html import load_html
from embedtune.corpus.loaders.jsonl import load_beir, load_jsonl
from embedtune.corpus.loaders.pdf import load_pdf
from embedtune.corpus.loaders.text import load_markdown, load_text

Loader = Callable[[SourceFile, IngestConfig], Loaded]

LOADERS: dict[str, Loader] = {
    "text": load_text,
    "markdown": load_markdown,
    "html": load_html,
    "pdf": load_pdf,
    "jsonl": load_jsonl,
    "beir": load_beir,
}

EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
}


def load(file: SourceFile, config: IngestConfig) -> Loaded:
    """Documents of ``file``; raises Skipped when the whole file is unusable."""
    return LOADERS[file.kind](file, config)


__all__ = ["EXTENSIONS", "LOADERS", "load"]
