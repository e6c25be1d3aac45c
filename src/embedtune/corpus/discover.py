"""Find the input files under the paths given: sorted walk, hidden files skipped, BEIR folders detected.

A folder holding ``corpus.jsonl`` is a BEIR dataset: only its corpus is ingested, never its queries,
qrels or notes. An embedtune workspace (a folder with our ``manifest.json``, or ``embedtune-runs``) is never
ingested: its chunks would come back as documents on every run. Paths that do not exist, files of unknown
types, unreadable folders, broken or looping symlinks, symlinked folders (not followed, so a link cannot
pull in a whole disk) and names that are not valid UTF-8 come back as Skipped, so each is warned and counted.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from embedtune.corpus.document import SourceFile
from embedtune.corpus.loaders import EXTENSIONS
from embedtune.corpus.skips import BAD_NAME, NOT_FOUND, UNREADABLE, UNSUPPORTED, WORKSPACE, Skipped
from embedtune.workspace.workspace import MANIFEST

BEIR_CORPUS = "corpus.jsonl"
RUNS_FOLDER = "embedtune-runs"  # where workspaces go by default
_MANIFEST_MAX_BYTES = 64 << 20


def shown(path: str | Path) -> str:
    """``path`` printable and encodable: bytes that are not UTF-8 appear as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _utf8(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def is_workspace(folder: Path) -> bool:
    """Whether ``folder`` is an embedtune workspace (or the folder that holds them by default)."""
    if folder.name == RUNS_FOLDER:
        return True
    manifest = folder / MANIFEST
    try:
        if not manifest.is_file() or manifest.stat().st_size > _MANIFEST_MAX_BYTES:
            return False
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("stages"), dict) and "embedtune_version" in data


def _not_a_file(path: Path) -> Skipped | None:
    """Why a listed entry is not a readable regular file (a broken or looping symlink, a socket...)."""
    try:
        mode = path.stat().st_mode  # follows a symlink: a loop or a dangling one raises
    except OSError as e:
        return Skipped(shown(path), UNREADABLE, e.strerror or type(e).__name__)
    return None if stat.S_ISREG(mode) else Skipped(shown(path), UNSUPPORTED, "not a regular file")


def _walk(root: Path, exclude: set[Path]) -> Iterable[Path | Skipped]:
    """Files under ``root`` (unordered) and the entries refused on the way; inside a BEIR folder only its corpus."""
    refused: list[Skipped] = []

    def unreadable(e: OSError) -> None:  # os.walk drops a folder it cannot list unless told
        refused.append(Skipped(shown(e.filename or root), UNREADABLE, f"folder: {e.strerror or e}"))

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        if here.resolve() in exclude or is_workspace(here):
            dirs.clear()
            refused.append(Skipped(shown(here), WORKSPACE, "an embedtune workspace, never ingested"))
            continue
        if BEIR_CORPUS in files:
            dirs.clear()
            yield here / BEIR_CORPUS
            continue
        linked = [d for d in dirs if not d.startswith(".") and (here / d).is_symlink()]
        refused += [Skipped(shown(here / d), UNSUPPORTED, "symlinked folder, not followed; pass it itself") for d in linked]
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in linked]
        yield from (here / f for f in files if not f.startswith("."))
    yield from refused


def _source_file(path: Path, root: Path, label: str) -> SourceFile | Skipped:
    if not _utf8(path):
        return Skipped(shown(path), BAD_NAME, "the file name is not valid UTF-8; rename it")
    if (problem := _not_a_file(path)) is not None:
        return problem
    rel = path.relative_to(root).as_posix()
    kind = "beir" if path.name == BEIR_CORPUS else EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        return Skipped(path, UNSUPPORTED, path.suffix or "no extension")
    return SourceFile(path, rel, f"{label}/{rel}" if label else rel, kind)


def _in_workspace(path: Path, exclude: set[Path]) -> bool:
    """Whether ``path`` is inside the output workspace or any other embedtune workspace."""
    folders = [path.resolve(), *path.resolve().parents] if path.is_dir() else list(path.resolve().parents)
    return any(f in exclude or is_workspace(f) for f in folders)


def _entries(arg: Path, exclude: set[Path]) -> list[SourceFile | Skipped]:
    try:
        if not arg.exists():
            return [Skipped(shown(arg), NOT_FOUND, "no such file or folder")]
        if _in_workspace(arg, exclude):
            return [Skipped(shown(arg), WORKSPACE, "inside an embedtune workspace, never ingested")]
    except (OSError, RuntimeError) as e:  # a symlink loop on the argument itself
        return [Skipped(shown(arg), UNREADABLE, str(e))]
    if arg.is_dir():
        walked = list(_walk(arg, exclude))
        files = sorted(p for p in walked if isinstance(p, Path))
        label = arg.resolve().name
        return [*(_source_file(f, arg, label) for f in files), *(s for s in walked if isinstance(s, Skipped))]
    return [_source_file(arg, arg.parent, "")]


def discover(
    paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()
) -> tuple[list[SourceFile], list[Skipped]]:
    """Input files under ``paths`` (in argument order, each folder walked sorted) and the paths refused.

    ``exclude``: folders never read (the workspace being written), besides any embedtune workspace.
    """
    skip = {Path(p).resolve() for p in exclude}
    found: list[SourceFile] = []
    refused: list[Skipped] = []
    for arg in map(Path, paths):
        for entry in _entries(arg, skip):
            (refused if isinstance(entry, Skipped) else found).append(entry)
    return found, refused
