"""Find the input files under the paths given: sorted walk, hidden files skipped, BEIR folders detected.

A folder holding ``corpus.jsonl`` is a BEIR dataset: only its corpus is ingested, never its queries,
qrels or notes. Paths that do not exist and files of unknown types come back as Skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from embedtune.corpus.document import SourceFile
from embedtune.corpus.loaders import EXTENSIONS
from embedtune.corpus.skips import NOT_FOUND, UNSUPPORTED, Skipped

BEIR_CORPUS = "corpus.jsonl"


def _walk(root: Path) -> Iterable[Path]:
    """Files under ``root`` (unordered); inside a BEIR folder only its corpus."""
    for folder, dirs, files in os.walk(root):
        if BEIR_CORPUS in files:
            dirs.clear()
            yield Path(folder) / BEIR_CORPUS
            continue
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from (Path(folder) / f for f in files if not f.startswith("."))


def _source_file(path: Path, root: Path, label: str) -> SourceFile | Skipped:
    rel = path.relative_to(root).as_posix()
    kind = "beir" if path.name == BEIR_CORPUS else EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        return Skipped(path, UNSUPPORTED, path.suffix or "no extension")
    return SourceFile(path, rel, f"{label}/{rel}" if label else rel, kind)


def discover(paths: Iterable[str | Path]) -> tuple[list[SourceFile], list[Skipped]]:
    """Input files under ``paths`` (in argument order, each folder walked sorted) and the paths refused."""
    found: list[SourceFile] = []
    refused: list[Skipped] = []
    for arg in map(Path, paths):
        if arg.is_dir():
            entries = [_source_file(f, arg, arg.resolve().name) for f in sorted(_walk(arg))]
        elif arg.is_file():
            entries = [_source_file(arg, arg.parent, "")]
        else:
            entries = [Skipped(arg, NOT_FOUND, "no such file or folder")]
        for entry in entries:
            (refused if isinstance(entry, Skipped) else found).append(entry)
    return found, refused
