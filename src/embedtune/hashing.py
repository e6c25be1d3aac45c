"""Content hashes used for stable ids, stage fingerprints and cache keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

_BLOCK = 1 << 20
MODEL_CARD = "README.md"  # a model folder's card (training.model_card writes it): describes, never changes, vectors


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_json(obj: Any) -> str:
    """Hash of a JSON-serialisable object, independent of key order."""
    return sha256_text(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str))


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def iter_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every regular file under ``paths`` (files as given, folders recursively), sorted, hidden ones skipped."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                f for f in sorted(p.rglob("*"))
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        else:
            out.append(p)
    return out


def fingerprint_paths(paths: Iterable[str | Path]) -> dict[str, str]:
    """``{path: sha256}`` for every existing file under ``paths`` (missing paths map to ``"missing"``)."""
    return {str(f): (sha256_file(f) if f.exists() else "missing") for f in iter_files(paths)}


def fingerprint_dir(path: str | Path, ignore: Iterable[str] = ()) -> str:
    """One hash for a whole folder (relative names and contents), e.g. a model directory; top-level files
    named in ``ignore`` are left out."""
    root = Path(path)
    h = hashlib.sha256()
    for f in iter_files([root]):
        if f.parent == root and f.name in ignore:
            continue
        h.update(str(f.relative_to(root)).encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def model_fingerprint(path: str | Path) -> str:
    """Content hash of a model folder (or single file): the identity every cache and stage record keys a model by.

    The model card (a top-level README.md) is left out: rewriting it (``run`` does, after evaluating) changes no
    vector, so it must not invalidate the corpus vectors cached for the model.
    Memoised while its files' sizes and mtimes are unchanged (hashing a model's weights takes seconds).
    """
    p = Path(path).resolve()
    signature = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in iter_files([p]))
    return _model_fingerprint(str(p), signature)


@lru_cache(maxsize=32)
def _model_fingerprint(path: str, signature: tuple) -> str:
    return fingerprint_dir(path, ignore=(MODEL_CARD,)) if Path(path).is_dir() else sha256_file(path)
