"""Why an input (a file or one record of it) was skipped: a one-line message plus a reason to count by."""

from __future__ import annotations

from pathlib import Path

from embedtune.errors import InputError

# Reasons, as counted in ingest_report.json and the summary table.
NOT_FOUND = "not found"
UNSUPPORTED = "unsupported type"
UNREADABLE = "unreadable"
BINARY = "binary file"
EMPTY = "empty file"
NO_TEXT = "no text"
UNDECODABLE = "undecodable text"
ENCRYPTED_PDF = "encrypted PDF"
BROKEN_PDF = "broken PDF"
MALFORMED_JSON = "malformed JSON"
NOT_AN_OBJECT = "not a JSON object"
MISSING_FIELD = "missing text field"
BAD_NAME = "non-UTF-8 file name"
WORKSPACE = "embedtune workspace"
DUPLICATE_ID = "duplicate id"


class Skipped(InputError):
    """An input that ingest skips with a warning; ``kind`` is the reason it is counted under."""

    def __init__(self, path: str | Path, kind: str, detail: str = "", line: int | None = None) -> None:
        self.kind = kind
        super().__init__(path, f"{kind} ({detail})" if detail else kind, line=line)
