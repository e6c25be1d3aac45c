"""JSON Lines files and BEIR corpora: one document per record.

A bad line (malformed JSON, no text field) is skipped with a warning naming file and line; the rest of
the file is still used. A record with an empty text but a title (common in old test collections) is
its title; one with neither is counted as empty. A record reusing an id already seen in the file is skipped
and counted: with the same text it is a re-sent copy, with other text merging the two would make one
"document" of unrelated passages.
"""

from __future__ import annotations

import json
from typing import Any

from embedtune.corpus.config import IngestConfig
from embedtune.corpus.decoding import read_text
from embedtune.corpus.document import Document, Loaded, SourceFile
from embedtune.corpus.skips import DUPLICATE_ID, MALFORMED_JSON, MISSING_FIELD, NOT_AN_OBJECT, Skipped


def _string(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def load_records(
    file: SourceFile, text_field: str, title_field: str, id_field: str, encoding: str | None = None
) -> Loaded:
    content, encoding = read_text(file.path, encoding)
    id_fields = [id_field, *(f for f in ("_id", "id") if f != id_field)]
    loaded = Loaded([], encoding=None if encoding == "utf-8" else encoding)
    first_seen: dict[str, tuple[int, int]] = {}  # id -> (line, hash of title and text)
    for lineno, line in enumerate(content.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            loaded.problems.append(Skipped(file.path, MALFORMED_JSON, e.msg, line=lineno))
            continue
        if not isinstance(record, dict):
            loaded.problems.append(Skipped(file.path, NOT_AN_OBJECT, line=lineno))
            continue
        text = _string(record.get(text_field))
        if text is None:
            loaded.problems.append(Skipped(file.path, MISSING_FIELD, f"no string {text_field!r}", line=lineno))
            continue
        title = (_string(record.get(title_field)) or "").strip()
        text = text if text.strip() else title
        if not text:
            loaded.empty_records += 1
            continue
        doc_id = next((s for f in id_fields if (s := _string(record.get(f)))), f"{file.doc_id}:{lineno}")
        if doc_id in first_seen:
            line, digest = first_seen[doc_id]
            same = "same" if digest == hash((title, text)) else "different"
            detail = f"id {doc_id!r} already used at line {line} ({same} text); record skipped"
            loaded.problems.append(Skipped(file.path, DUPLICATE_ID, detail, line=lineno))
            continue
        first_seen[doc_id] = (lineno, hash((title, text)))
        loaded.documents.append(Document(doc_id, text, file.source, title=title))
    return loaded


def load_jsonl(file: SourceFile, config: IngestConfig) -> Loaded:
    return load_records(file, config.text_field, config.title_field, config.id_field, config.encoding)


def load_beir(file: SourceFile, config: IngestConfig) -> Loaded:
    """A BEIR ``corpus.jsonl``: always ``_id``, ``title``, ``text``."""
    return load_records(file, "text", "title", "_id", config.encoding)
