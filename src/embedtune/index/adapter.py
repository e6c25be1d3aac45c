"""Adapter versions: a version that serves another version's stored vectors through a query adapter.

``attach_adapter(store, "base", "base_adapted", "embedtune-runs/default/adapter")`` records a new version whose
meta is the source's (model, dim, corpus) plus the adapter's path and content hash, and ``vectors_of`` naming the
source: no vector is encoded or copied, so it is complete at once. It is promoted, rolled back, shadow-compared
and served like any version; queries (``/search``, and ``/v1/embeddings`` with ``input_type: "query"``) go
through the adapter, documents do not.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.index.base import IndexMeta, IndexStore, validate_name
from embedtune.index.store import open_store
from embedtune.retrieval.embedding_cache import model_fingerprint
from embedtune.workspace.manifest import utcnow


def attach_adapter(store: IndexStore | str | Path, source: str, name: str, adapter: str | Path) -> IndexMeta:
    """Create version ``name``: the vectors of version ``source`` (or ``"live"``), queried through ``adapter``.

    The adapter must have been trained on the source's model (same content hash) at the source model's full width.
    """
    from embedtune.adapter import QueryAdapter

    validate_name(name)
    st = store if not isinstance(store, str | Path) else open_store(store)
    src = st.meta(source) if hasattr(st, "meta") else {m.name: m for m in st.versions()}[source]
    if not src.complete:
        raise EmbedtuneError(f"index version {src.name!r} is incomplete; finish its build before attaching an adapter")
    path = Path(adapter).resolve()
    loaded = QueryAdapter.load(path)
    if loaded.base_model_hash != src.model_hash:
        raise EmbedtuneError(
            f"adapter {path} was trained on model {loaded.base_model_hash[:12]}, but version {src.name!r} holds vectors "
            f"of model {src.model_path} ({src.model_hash[:12]}): an adapter only fits its own base model's vectors"
        )
    if src.model_dim and loaded.dim != src.model_dim:
        raise EmbedtuneError(f"adapter {path} maps {loaded.dim}-dimensional queries; {src.name!r}'s model gives {src.model_dim}")
    meta = replace(src, name=name, created_at=utcnow(), query_adapter=str(path),
                   query_adapter_hash=model_fingerprint(path), vectors_of=src.table, complete=False)
    st.create(meta)
    meta = replace(meta, complete=True)
    st.save_meta(meta)
    return meta
