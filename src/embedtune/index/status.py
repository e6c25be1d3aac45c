"""What a store holds (``embedtune index status``): its versions, which is live, and what vectors cost.

Storage cost is the raw float32 vectors, ``4 * dim`` bytes each: the part of an index that a smaller
Matryoshka ``dim`` shrinks (ids, texts and index structures come on top and do not shrink with it).
"""

from __future__ import annotations

from dataclasses import dataclass

from embedtune.index.base import IndexMeta, IndexStore

FLOAT32 = 4
COMMON_DIMS = (1024, 768, 512, 384, 256, 128, 64)


@dataclass(frozen=True)
class VersionStatus:
    """One version as the status table shows it; ``count`` is the rows stored now (mid-build too)."""

    meta: IndexMeta
    live: bool
    count: int
    disk_bytes: int | None

    @property
    def vector_bytes(self) -> int:
        return self.count * self.meta.dim * FLOAT32


def store_status(store: IndexStore) -> list[VersionStatus]:
    """Every version, oldest first, with its live row count and size on disk where measurable."""
    live = store.live_name()
    out = []
    for meta in store.versions():
        version = store.open(meta.name)
        out.append(VersionStatus(meta, meta.name == live, version.count(), version.disk_bytes()))
    return out


def storage_by_dim(n_vectors: int, dims: set[int]) -> list[dict]:
    """float32 bytes per vector and for ``n_vectors`` vectors, at each dim (largest first)."""
    return [
        {"dim": d, "bytes per vector": d * FLOAT32, "vectors": n_vectors, "total bytes": d * FLOAT32 * n_vectors}
        for d in sorted(dims, reverse=True)
    ]


def cost_dims(statuses: list[VersionStatus]) -> set[int]:
    """The versions' dims and model dims, plus the usual Matryoshka prefixes below the widest model."""
    widest = max((s.meta.model_dim or s.meta.dim for s in statuses), default=0)
    dims = {s.meta.dim for s in statuses} | {s.meta.model_dim for s in statuses if s.meta.model_dim}
    return dims | {d for d in COMMON_DIMS if d <= widest}


def human_bytes(n: int | None) -> str:
    """``1234567`` -> ``"1.2 MB"`` (decimal units); None -> ``"-"``."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} GB"
