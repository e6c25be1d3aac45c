"""The Milvus backend: a Milvus server (``http://host:19530``) or milvus-lite, the same engine in-process.

Each version is a collection (id, doc_id, text, duplicate_doc_ids, vector; a FLAT index, so search is exact
cosine). Everything embedtune records lives in Milvus itself, so a store on a server needs no local files:

- a version's :class:`IndexMeta` is the collection property ``embedtune.meta`` (JSON);
- ``live`` is a Milvus collection alias, switched by ``alter_alias`` (atomic on the server);
- the promote history (where rollback goes) is the property ``embedtune.history`` of the live collection,
  written on the promoted collection *before* the alias switch, so a crash between leaves live unchanged.

milvus-lite (a store *folder*, holding ``milvus.db``) allows one process at a time: a server and the CLI
cannot open the same folder together; use a Milvus server for that.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import MilvusException

from embedtune.errors import EmbedtuneError
from embedtune.index.base import LIVE, Hit, IndexMeta, check_model_hash, check_query_dim
from embedtune.index.disk import folder_bytes
from embedtune.index.store_base import BaseStore

META_KEY = "embedtune.meta"
HISTORY_KEY = "embedtune.history"
LITE_FILE = "milvus.db"
MAX_VARCHAR = 65_535  # Milvus' VARCHAR limit, in bytes
MAX_ID = 1_024
MAX_TOPK = 16_384  # Milvus' largest search limit
_FIELDS = ["id", "doc_id", "text", "duplicate_doc_ids"]

# pymilvus logs every failed RPC at ERROR with a traceback before raising (and warns on iterators); we turn
# its exceptions into one line instead. Set after importing pymilvus, whose import configures these loggers.
for _logger in ("pymilvus", "pymilvus.milvus_client", "milvus_lite"):
    logging.getLogger(_logger).setLevel(logging.CRITICAL)


@contextmanager
def milvus_errors(where: str) -> Iterator[None]:
    """Milvus exceptions as one-line EmbedtuneErrors naming the store."""
    try:
        yield
    except MilvusException as e:
        raise EmbedtuneError(f"milvus store {where}: {e.message}") from None


def _fit(text: str, limit: int = MAX_VARCHAR) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes (display text only; ids are checked, never cut)."""
    raw = text.encode("utf-8")
    return text if len(raw) <= limit else raw[:limit].decode("utf-8", errors="ignore")


def _doc_list(doc_ids: list[str]) -> str:
    """JSON list of ``doc_ids`` within the VARCHAR limit (whole ids dropped from the end, never cut)."""
    ids = list(doc_ids)
    while len(text := json.dumps(ids).encode("utf-8")) > MAX_VARCHAR:
        ids.pop()
    return text.decode("utf-8")


def _locked(lite_path: Path) -> bool:
    """Whether another process holds milvus-lite's lock on ``lite_path`` (asked after opening it failed)."""
    try:
        import fcntl
    except ImportError:  # not on Windows; the generic message is all we can say there
        return False

    try:
        with open(lite_path / "LOCK", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _hit(row: dict, score: float) -> Hit:
    return Hit(row["id"], score, row["text"], row["doc_id"], tuple(json.loads(row["duplicate_doc_ids"] or "[]")))


class MilvusVersion:
    """One version: a Milvus collection plus its meta."""

    def __init__(self, store: MilvusStore, meta: IndexMeta) -> None:
        self.meta = meta
        self._store = store
        self._client = store.client
        self._loaded = False

    def _ready(self) -> str:
        # A collection is "released" after milvus-lite reopens; load is a no-op when already loaded.
        if not self._loaded:
            with milvus_errors(self._store.uri):
                self._client.load_collection(self.meta.table)
            self._loaded = True
        return self.meta.table  # an adapter version's own collection is empty: it only carries its meta

    def check_model(self, model_hash: str) -> None:
        check_model_hash(self.meta, model_hash)

    def add(self, ids: list[str], vectors: np.ndarray, texts: list[str], doc_ids: list[str],
            duplicate_doc_ids: list[list[str]]) -> None:
        for value in (*ids, *doc_ids):
            if len(value.encode("utf-8")) > MAX_ID:
                raise EmbedtuneError(f"id {value[:60]!r}... is longer than Milvus' {MAX_ID}-byte id field")
        rows = [
            {"id": i, "doc_id": d, "text": _fit(t), "duplicate_doc_ids": _doc_list(dup), "vector": v}
            for i, d, t, dup, v in zip(ids, doc_ids, texts, duplicate_doc_ids, np.asarray(vectors, np.float32).tolist(),
                                       strict=True)
        ]
        with milvus_errors(self._store.uri):
            self._client.insert(self._ready(), rows)  # one insert request is applied whole or not at all

    def count(self) -> int:
        with milvus_errors(self._store.uri):
            return int(self._client.query(self._ready(), filter="", output_fields=["count(*)"])[0]["count(*)"])

    def _scan(self, fields: list[str]) -> Iterator[dict]:
        with milvus_errors(self._store.uri):
            it = self._client.query_iterator(self._ready(), batch_size=10_000, output_fields=fields)
            try:
                while batch := it.next():
                    yield from batch
            finally:
                it.close()

    def ids(self) -> set[str]:
        return {r["id"] for r in self._scan(["id"])}

    def chunks(self) -> list[Hit]:
        return [_hit(r, 0.0) for r in self._scan(_FIELDS)]

    def search(self, vectors: np.ndarray, k: int = 10) -> list[list[Hit]]:
        check_query_dim(self.meta, vectors)
        if not len(vectors):
            return []
        with milvus_errors(self._store.uri):
            results = self._client.search(
                self._ready(), data=np.asarray(vectors, np.float32).tolist(), limit=min(k, MAX_TOPK),
                output_fields=_FIELDS, search_params={"metric_type": "COSINE"},
            )
        return [[_hit(r["entity"], float(r["distance"])) for r in hits] for hits in results]

    def finish(self) -> None:
        with milvus_errors(self._store.uri):
            self._client.flush(self._ready())

    def disk_bytes(self) -> int | None:
        if self.meta.vectors_of:  # an adapter version stores no vectors of its own: only its adapter's files
            return folder_bytes(Path(self.meta.query_adapter))
        if self._store.lite_path is None:
            return None  # on a server: not ours to measure
        return folder_bytes(self._store.lite_path / "collections" / self.meta.name)


class MilvusStore(BaseStore):
    """Versions as Milvus collections; see the module docstring for where the meta and alias live."""

    backend = "milvus"

    def __init__(self, uri_or_dir: str | Path) -> None:
        text = str(uri_or_dir)
        self.uri = text
        self.lite_path: Path | None = None
        if "://" in text:
            target = text
        else:
            Path(text).mkdir(parents=True, exist_ok=True)
            self.lite_path = Path(text) / LITE_FILE
            target = str(self.lite_path)
        try:
            self.client = MilvusClient(target)
        # pymilvus reports any failure to start milvus-lite as one generic "Open local milvus failed".
        except Exception as e:  # noqa: BLE001
            if self.lite_path is not None and _locked(self.lite_path):
                raise EmbedtuneError(
                    f"milvus store {text} is open in another process (milvus-lite allows one at a time; "
                    "stop that process, or use a Milvus server)"
                ) from None
            raise EmbedtuneError(f"cannot open milvus store {text}: {getattr(e, 'message', e)}") from None

    def _properties(self, name: str) -> dict:
        with milvus_errors(self.uri):
            return self.client.describe_collection(name).get("properties", {})

    def _metas(self) -> dict[str, IndexMeta]:
        out = {}
        with milvus_errors(self.uri):
            names = self.client.list_collections()
        for name in names:
            raw = self._properties(name).get(META_KEY)
            if raw:  # other applications' collections on the same server are not ours
                meta = IndexMeta.from_json(json.loads(raw))
                out[meta.name] = meta
        return out

    def _open(self, meta: IndexMeta) -> MilvusVersion:
        return MilvusVersion(self, meta)

    def _create(self, meta: IndexMeta) -> MilvusVersion:
        with milvus_errors(self.uri):
            if self.client.has_collection(meta.name):
                raise EmbedtuneError(f"milvus store {self.uri}: collection {meta.name!r} exists but is not an "
                                     "embedtune index version")
            schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
            schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID)
            schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
            schema.add_field("duplicate_doc_ids", DataType.VARCHAR, max_length=MAX_VARCHAR)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=meta.dim)
            index = self.client.prepare_index_params()
            index.add_index("vector", index_type="FLAT", metric_type="COSINE")
            # The meta is set in the same call, so no collection ever exists without it.
            self.client.create_collection(meta.name, schema=schema, index_params=index,
                                          properties={META_KEY: json.dumps(meta.to_json())})
        return self._open(meta)

    def save_meta(self, meta: IndexMeta) -> None:
        with milvus_errors(self.uri):
            self.client.alter_collection_properties(meta.name, properties={META_KEY: json.dumps(meta.to_json())})

    def live_name(self) -> str | None:
        try:
            return self.client.describe_alias(LIVE)["collection_name"]
        except MilvusException:  # no such alias yet
            return None

    def history(self) -> list[str]:
        live = self.live_name()
        return json.loads(self._properties(live).get(HISTORY_KEY, "[]")) if live else []

    def _switch(self, name: str, history: list[str]) -> None:
        with milvus_errors(self.uri):
            self.client.alter_collection_properties(name, properties={HISTORY_KEY: json.dumps(history)})
            if self.live_name() is None:
                self.client.create_alias(name, LIVE)
            else:
                self.client.alter_alias(name, LIVE)
