"""``open_store``: a store by folder or URL, with its backend named or recognised.

A store folder records its backend in ``_embedtune/store.json`` when first created, so later commands need
no ``--backend`` and a mix-up (``--backend milvus`` on a LanceDB folder) is refused instead of creating a
second, empty store in the same place. A URL (``http://host:19530``) is a Milvus server.
"""

from __future__ import annotations

import json
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.index.base import BACKENDS, IndexStore
from embedtune.workspace.atomic import write_json

MARKER = Path("_embedtune") / "store.json"
DEFAULT_BACKEND = "lancedb"


def _recorded_backend(root: Path) -> str | None:
    marker = root / MARKER
    if marker.exists():
        try:
            return str(json.loads(marker.read_text(encoding="utf-8"))["backend"])
        except (OSError, ValueError, KeyError, TypeError):
            raise EmbedtuneError(f"{marker}: unreadable store record") from None
    if (root / "milvus.db").exists():
        return "milvus"
    if any(root.glob("*.lance")):
        return "lancedb"
    return None


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise EmbedtuneError(f"unknown index backend {backend!r}: use {' or '.join(BACKENDS)}")
    return backend


def open_store(uri_or_dir: str | Path, backend: str | None = None, create: bool = False) -> IndexStore:
    """The store at ``uri_or_dir``.

    Args:
        uri_or_dir: a store folder, or a Milvus server URL.
        backend: ``"lancedb"`` or ``"milvus"``; None uses the one the folder was created with.
        create: make a new store when the folder holds none (``index build``); otherwise that is an error.
    """
    if backend is not None:
        check_backend(backend)
    text = str(uri_or_dir)
    if "://" in text:
        if backend not in (None, "milvus"):
            raise EmbedtuneError(f"{text} is a server URL: only the milvus backend talks to a server")
        from embedtune.index.milvus_store import MilvusStore

        return MilvusStore(text)

    root = Path(text)
    recorded = _recorded_backend(root) if root.is_dir() else None
    if recorded is not None and backend is not None and backend != recorded:
        raise EmbedtuneError(f"store {root} is a {recorded} store, not {backend}")
    if recorded is None:
        if not create:
            raise EmbedtuneError(f"no index store at {root}; build a version first with `embedtune index build`")
        recorded = backend or DEFAULT_BACKEND
    if root.exists() and not root.is_dir():
        raise EmbedtuneError(f"{root}: not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not (root / MARKER).exists():
            write_json(root / MARKER, {"backend": recorded, "format": 1})
    except OSError as e:
        raise EmbedtuneError(f"{root}: cannot create the index store ({e.strerror or e})") from None
    if recorded == "milvus":
        from embedtune.index.milvus_store import MilvusStore

        return MilvusStore(root)
    from embedtune.index.lance_store import LanceStore

    return LanceStore(root)
