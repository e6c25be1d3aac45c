"""Vector index versions for migrating onto a tuned model: build, shadow-compare, promote, roll back.

Two backends behind one interface (:mod:`embedtune.index.base`): LanceDB (embedded, a folder; the default)
and Milvus (a server URL, or milvus-lite in a folder).
"""

from embedtune.index.base import (
    BACKENDS,
    LIVE,
    Hit,
    IndexMeta,
    IndexStore,
    IndexVersion,
)
from embedtune.index.adapter import attach_adapter
from embedtune.index.build import BuildResult, build_index
from embedtune.index.model import embed_for, load_version_adapter, load_version_model
from embedtune.index.shadow import QueryShadow, ShadowResult, shadow_compare
from embedtune.index.store import open_store

__all__ = [
    "BACKENDS",
    "LIVE",
    "BuildResult",
    "Hit",
    "IndexMeta",
    "IndexStore",
    "IndexVersion",
    "QueryShadow",
    "ShadowResult",
    "attach_adapter",
    "build_index",
    "embed_for",
    "load_version_adapter",
    "load_version_model",
    "open_store",
    "shadow_compare",
]
