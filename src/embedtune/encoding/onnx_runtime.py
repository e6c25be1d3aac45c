"""``onnx`` and ``onnx-int8``: the transformer runs in ONNX Runtime, fp32 or with dynamic int8 quantisation.

What it optimises: CPU throughput. ``onnx`` gives fp32 vectors (float noise from PyTorch's) through ORT's fused
kernels; ``onnx-int8`` quantises weights to int8 and activations on the fly, which runs on VNNI / AMX-INT8 units
(~2-3x fp32 on recent x86) at a small cost in quality (mean cosine ~0.997 to fp32 on all-MiniLM-L6-v2, FFN down-projections kept fp32; check
NDCG with ``benchmarks/encode.py`` before serving with it). Use it for bulk corpus encoding and CPU serving;
keep ``torch`` for training. The first use of a model exports it (seconds for MiniLM), cached per content hash.
Reference: sentence-transformers, "Speeding up Inference", https://sbert.net/docs/sentence_transformer/usage/efficiency.html
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedtune.encoding.base import InferenceBackend
from embedtune.hashing import model_fingerprint

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer


class OnnxBackend(InferenceBackend):
    """Swap the HF model inside the first module for an ONNX Runtime session (fp32 or int8 file).

    Also the base of the other backends that run the cached ONNX export in another runtime: they override
    :meth:`export_precision` and :meth:`stand_in`.
    """

    def __init__(self, precision: str = "fp32") -> None:
        self.precision = precision
        self.name = "onnx" if precision == "fp32" else "onnx-int8"
        self.changes_vectors = precision != "fp32"

    def export_precision(self) -> str:
        """Which cached export this backend runs (``fp32`` or ``int8``)."""
        return self.precision

    def supports(self, model: SentenceTransformer) -> bool:
        """Transformer-based models only (not static embeddings, which need no acceleration)."""
        from transformers import PreTrainedModel

        return isinstance(getattr(model[0], "auto_model", None), PreTrainedModel)

    def prepare(self, model: SentenceTransformer, path: Path, threads: int | None) -> SentenceTransformer:
        from embedtune.encoding.onnx_export import ensure_onnx

        onnx_file = ensure_onnx(model, model_fingerprint(path), self.export_precision())  # type: ignore[arg-type]
        transformer = model[0]
        transformer.model = self.stand_in(onnx_file, transformer.auto_model.config, threads)
        return model

    def stand_in(self, onnx_file: Path, config: Any, threads: int | None) -> torch.nn.Module:
        """The module that answers ``transformer.model(**features)`` from the exported file."""
        from embedtune.encoding.onnx_module import OnnxTransformerModel

        return OnnxTransformerModel(onnx_file, config, threads)


def fallback_warning(name: str) -> None:
    warnings.warn(f"{name} inference needs a transformer model; using torch for this one", stacklevel=3)
