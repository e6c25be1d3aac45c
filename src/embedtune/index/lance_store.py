"""The embedded backend: LanceDB tables in a local folder, no server.

Layout of a store folder::

    <store>/<name>.lance/               one LanceDB table per version (id, doc_id, text, duplicate_doc_ids, vector)
    <store>/_embedtune/versions/<name>.json   its IndexMeta
    <store>/_embedtune/aliases.json     {"live": name, "history": [...]}: one atomic write switches live

Search is exact (brute-force cosine over the table, LanceDB's behaviour without a vector index), so the
shadow comparison measures the models, not an approximation. Every ``add`` is one LanceDB commit: a batch is
stored whole or not at all, which is what makes an interrupted build resumable by ids.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np

# LanceDB's Rust side logs a warning when a table is first written; ours say what matters.
os.environ.setdefault("LANCE_LOG", "error")

import lancedb
import pyarrow as pa

from embedtune.errors import EmbedtuneError
from embedtune.index.base import Hit, IndexMeta, check_model_hash, check_query_dim
from embedtune.index.disk import folder_bytes
from embedtune.index.store_base import BaseStore
from embedtune.workspace.atomic import write_json

STATE_DIR = "_embedtune"
_COLUMNS = ["id", "doc_id", "text", "duplicate_doc_ids"]


def _schema(dim: int) -> pa.Schema:
    return pa.schema([
        pa.field("id", pa.string()),
        pa.field("doc_id", pa.string()),
        pa.field("text", pa.string()),
        pa.field("duplicate_doc_ids", pa.list_(pa.string())),
        pa.field("vector", pa.list_(pa.float32(), dim)),
    ])


class LanceVersion:
    """One version: a LanceDB table plus its meta."""

    def __init__(self, db: lancedb.DBConnection, root: Path, meta: IndexMeta) -> None:
        self.meta = meta
        self._db = db
        self._root = root
        self._table = None

    def _tbl(self):
        # Opened on first use, and created if a crash came between writing the meta and creating the table.
        if self._table is None:
            self._table = self._db.create_table(self.meta.table, schema=_schema(self.meta.dim), exist_ok=True)
        return self._table

    def check_model(self, model_hash: str) -> None:
        check_model_hash(self.meta, model_hash)

    def add(self, ids: list[str], vectors: np.ndarray, texts: list[str], doc_ids: list[str],
            duplicate_doc_ids: list[list[str]]) -> None:
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        column = pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), self.meta.dim)
        batch = pa.table([ids, doc_ids, texts, duplicate_doc_ids, column], schema=_schema(self.meta.dim))
        self._tbl().add(batch)

    def count(self) -> int:
        return self._tbl().count_rows()

    def ids(self) -> set[str]:
        rows = self._tbl().search().select(["id"]).limit(None).to_arrow()
        return set(rows.column("id").to_pylist())

    def chunks(self) -> list[Hit]:
        rows = self._tbl().search().select(_COLUMNS).limit(None).to_arrow().to_pylist()
        return [Hit(r["id"], 0.0, r["text"], r["doc_id"], tuple(r["duplicate_doc_ids"] or ())) for r in rows]

    def search(self, vectors: np.ndarray, k: int = 10) -> list[list[Hit]]:
        check_query_dim(self.meta, vectors)
        out: list[list[Hit]] = [[] for _ in range(len(vectors))]
        if not len(vectors) or self.count() == 0:
            return out
        query = self._tbl().search(np.asarray(vectors, dtype=np.float32)).metric("cosine").limit(k)
        rows = query.select([*_COLUMNS, "_distance"]).to_arrow().to_pylist()
        for r in rows:  # ordered best first within each query
            hit = Hit(r["id"], 1.0 - float(r["_distance"]), r["text"], r["doc_id"], tuple(r["duplicate_doc_ids"] or ()))
            out[r.get("query_index", 0)].append(hit)
        return out

    def finish(self) -> None:
        """Compact the batches' small files into a few and drop superseded ones (nobody reads a building version)."""
        with warnings.catch_warnings():  # "concurrent readers would fail": none read a version being built
            warnings.simplefilter("ignore", UserWarning)
            self._tbl().optimize(cleanup_older_than=timedelta(0))

    def disk_bytes(self) -> int | None:
        if self.meta.vectors_of:  # an adapter version stores no vectors of its own: only its adapter's files
            return folder_bytes(Path(self.meta.query_adapter))
        return folder_bytes(self._root / f"{self.meta.name}.lance")


class LanceStore(BaseStore):
    """Versions as LanceDB tables in one folder; metas and the alias as small JSON files beside them."""

    backend = "lancedb"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.uri = str(root)
        self._state = self.root / STATE_DIR
        self._db = lancedb.connect(str(self.root))

    def _meta_path(self, name: str) -> Path:
        return self._state / "versions" / f"{name}.json"

    def _metas(self) -> dict[str, IndexMeta]:
        out = {}
        for path in sorted((self._state / "versions").glob("*.json")):
            try:
                meta = IndexMeta.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                raise EmbedtuneError(f"{path}: unreadable index version record") from None
            out[meta.name] = meta
        return out

    def _open(self, meta: IndexMeta) -> LanceVersion:
        return LanceVersion(self._db, self.root, meta)

    def _create(self, meta: IndexMeta) -> LanceVersion:
        if (self.root / f"{meta.name}.lance").exists():
            raise EmbedtuneError(f"{self.root / meta.name}.lance exists but is not an embedtune index version")
        self.save_meta(meta)  # first: a table without a meta would be invisible and block the name
        version = self._open(meta)
        version._tbl()
        return version

    def save_meta(self, meta: IndexMeta) -> None:
        write_json(self._meta_path(meta.name), meta.to_json())

    def _aliases(self) -> dict:
        path = self._state / "aliases.json"
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise EmbedtuneError(f"{path}: unreadable alias file") from None

    def live_name(self) -> str | None:
        return self._aliases().get("live")

    def history(self) -> list[str]:
        return list(self._aliases().get("history", []))

    def _switch(self, name: str, history: list[str]) -> None:
        write_json(self._state / "aliases.json", {"live": name, "history": history})
