"""PDF files (pypdf): one document per page with text, numbered from 1; the title from the metadata."""

from __future__ import annotations

import io
import logging
import re

from pypdf import PdfReader

from embedtune.corpus.config import IngestConfig
from embedtune.corpus.decoding import read_bytes
from embedtune.corpus.document import Document, Loaded, SourceFile
from embedtune.corpus.skips import BROKEN_PDF, EMPTY, ENCRYPTED_PDF, NO_TEXT, Skipped

# pypdf logs every repair it attempts; the one-line skip message is what the user needs.
logging.getLogger("pypdf").setLevel(logging.ERROR)

# Lines of a PDF page are layout, not structure: rejoin them so the splitter cuts at sentences.
_LINE_BREAK = re.compile(r"(?<!\n)\n(?!\n)")


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def load_pdf(file: SourceFile, config: IngestConfig) -> Loaded:
    data = read_bytes(file.path)
    if not data.strip():
        raise Skipped(file.path, EMPTY)
    # pypdf raises many exception types on damaged files (PdfReadError, ValueError, KeyError, ...).
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many "protected" PDFs only restrict printing or copying
            except Exception as e:
                raise Skipped(file.path, ENCRYPTED_PDF, _first_line(e)) from None
            if not opened:
                raise Skipped(file.path, ENCRYPTED_PDF, "needs a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Skipped:
        raise
    except Exception as e:
        raise Skipped(file.path, BROKEN_PDF, _first_line(e)) from None
    docs = [
        Document(file.doc_id, _LINE_BREAK.sub(" ", text).strip(), file.source, title=title.strip(), page=number)
        for number, text in enumerate(pages, 1)
        if text.strip()
    ]
    if not docs:
        raise Skipped(file.path, NO_TEXT, "no extractable text; scanned pages need OCR first")
    return Loaded(docs)
