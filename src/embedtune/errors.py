"""User-facing errors. The CLI prints them as one line (no traceback) and exits non-zero."""

from __future__ import annotations

from pathlib import Path


class EmbedtuneError(Exception):
    """An error caused by the user's input or environment, with a message that says what to do."""


class InputError(EmbedtuneError):
    """A problem with one input file: ``path[:line]: reason``."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")
