"""The query adapter itself: a small map applied to base-model query vectors, saved as two small files.

Layout of an adapter folder::

    <dir>/adapter.safetensors   the weights (float32)
    <dir>/adapter.json          kind, dim, hidden, Matryoshka dims, the base model's path and content hash,
                                and how it was trained

The adapter's identity is the content hash of that folder (``embedtune.retrieval.embedding_cache.model_fingerprint``),
which an index version records beside its model's hash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.retrieval.dense import normalize_rows
from embedtune.workspace.atomic import atomic_write, write_json

WEIGHTS_FILE = "adapter.safetensors"
META_FILE = "adapter.json"
FORMAT = 1


def build_module(kind: str, dim: int, hidden: int):  # -> torch.nn.Module
    """An identity-initialised adapter: ``f(x) == x`` before training, whatever the kind."""
    import torch
    from torch import nn

    class Linear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.eye(dim))
            self.bias = nn.Parameter(torch.zeros(dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x @ self.weight.T + self.bias

        def identity_distance(self) -> torch.Tensor:
            return ((self.weight - torch.eye(dim)) ** 2).sum() + (self.bias**2).sum()

    class ResidualMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up = nn.Linear(dim, hidden)
            self.down = nn.Linear(hidden, dim)
            nn.init.zeros_(self.down.weight)
            nn.init.zeros_(self.down.bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.down(torch.relu(self.up(x)))

        def identity_distance(self) -> torch.Tensor:
            return (self.down.weight**2).sum() + (self.down.bias**2).sum()

    if kind == "linear":
        return Linear()
    if kind == "mlp":
        return ResidualMLP()
    raise EmbedtuneError(f"unknown adapter kind {kind!r}: use linear or mlp")


class QueryAdapter:
    """A trained query-side adapter: maps a base model's query vectors into the space of its corpus vectors.

    The corpus (and every index built from it) keeps the base model's vectors; only queries change. Use it when
    re-embedding the corpus is what stops you from fine-tuning: training takes seconds, and nothing stored
    changes. Vectors go in and come out at the model's full width, L2-normalised; truncate the output to any
    Matryoshka dim it was trained for (``dims``) and renormalise, exactly as with the model's own vectors.

    References: LlamaIndex's ``LinearAdapterEmbeddingModel`` (query-only linear adapter, document vectors frozen);
    Kusupati et al., "Matryoshka Representation Learning" (NeurIPS 2022).

    Example::

        from embedtune.adapter import QueryAdapter
        from embedtune.models import load_embedder
        from embedtune.retrieval.embedding_cache import encode_texts

        adapter = QueryAdapter.load("embedtune-runs/default/adapter")
        model = load_embedder(adapter.base_model_path)
        q = adapter.apply(encode_texts(model, ["what causes insulin resistance?"], "query"))
    """

    def __init__(self, module, meta: dict[str, Any], path: Path | None = None) -> None:
        self.module = module
        self.meta = meta
        self.path = path

    @property
    def kind(self) -> str:
        return str(self.meta["kind"])

    @property
    def dim(self) -> int:
        """Width of the vectors it takes and gives (the base model's full dim)."""
        return int(self.meta["dim"])

    @property
    def dims(self) -> list[int]:
        """Matryoshka dims it was trained for."""
        return [int(d) for d in self.meta.get("dims", [self.dim])]

    @property
    def base_model_hash(self) -> str:
        return str(self.meta.get("base_model_hash", ""))

    @property
    def base_model_path(self) -> str:
        return str(self.meta.get("base_model_path", ""))

    @classmethod
    def identity(cls, dim: int, kind: str = "linear", hidden: int = 256, **meta: Any) -> QueryAdapter:
        """An untrained adapter: ``apply`` returns its input (renormalised)."""
        return cls(build_module(kind, dim, hidden), {"format": FORMAT, "kind": kind, "dim": dim, "hidden": hidden,
                                                     "dims": [dim], **meta})

    def apply(self, query_vectors: np.ndarray) -> np.ndarray:
        """Adapted, L2-normalised float32 query vectors (full width) for base-model query vectors ``(n, dim)``."""
        import torch

        x = np.asarray(query_vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise EmbedtuneError(f"the query adapter takes {self.dim}-dimensional vectors, got shape {x.shape}")
        if not len(x):
            return x.copy()
        self.module.eval()
        with torch.inference_mode():
            out = self.module(torch.from_numpy(np.ascontiguousarray(x))).numpy()
        return np.ascontiguousarray(normalize_rows(out), dtype=np.float32)

    def save(self, path: str | Path) -> Path:
        """Write ``adapter.safetensors`` and ``adapter.json`` into folder ``path`` (atomically each)."""
        from safetensors.torch import save

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().contiguous().float() for k, v in self.module.state_dict().items()}
        with atomic_write(out / WEIGHTS_FILE, "wb") as f:
            f.write(save(tensors))
        write_json(out / META_FILE, self.meta)
        self.path = out
        return out

    @classmethod
    def load(cls, path: str | Path) -> QueryAdapter:
        """The adapter saved in folder ``path`` (or the folder of its ``adapter.json``)."""
        from safetensors.torch import load_file

        folder = Path(path)
        if folder.is_file():
            folder = folder.parent
        meta_path, weights = folder / META_FILE, folder / WEIGHTS_FILE
        if not meta_path.exists() or not weights.exists():
            raise EmbedtuneError(f"{folder}: not a query adapter (needs {META_FILE} and {WEIGHTS_FILE})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            module = build_module(meta["kind"], int(meta["dim"]), int(meta.get("hidden", 256)))
            module.load_state_dict(load_file(str(weights)))
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise EmbedtuneError(f"{folder}: unreadable query adapter ({e})") from None
        return cls(module, meta, folder)
