"""Bytes on disk of a folder (a LanceDB table, a milvus-lite collection), for ``embedtune index status``."""

from __future__ import annotations

from pathlib import Path


def folder_bytes(path: Path) -> int | None:
    """Total size of the files under ``path``; None when it does not exist."""
    if not path.exists():
        return None
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
