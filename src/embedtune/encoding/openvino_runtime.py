"""``openvino`` and ``openvino-bf16``: the transformer runs in Intel's OpenVINO runtime, f32 or bf16.

What it optimises: CPU throughput without a training-grade framework in the loop. OpenVINO fuses the whole
encoder into its own CPU kernels; with ``openvino-bf16`` the matrix products run in bfloat16 on AMX /
AVX512-BF16 units. Measured on all-MiniLM-L6-v2 on 2 cores with AMX (``benchmarks/encode.py``):
``openvino-bf16`` ~2.1x plain sentence-transformers, the fastest backend, with vectors at cosine ~0.99997 to
fp32 and unchanged NDCG@10; ``openvino`` (f32) gives fp32 vectors, ~1.1x. On CPUs without bf16 units
``openvino-bf16`` runs in f32. It reads the same cached ONNX export as the ``onnx`` backend (the plain export:
ORT's fused contrib ops are not standard ONNX). Use it for bulk corpus encoding, mining, evaluation and CPU
serving; train with ``torch``.
Reference: sentence-transformers, "Speeding up Inference" (OpenVINO backend),
https://sbert.net/docs/sentence_transformer/usage/efficiency.html
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedtune.encoding.onnx_runtime import OnnxBackend

if TYPE_CHECKING:
    import torch


class OpenVinoBackend(OnnxBackend):
    """Swap the HF model inside the first module for an OpenVINO compiled model (f32 or bf16 precision)."""

    def __init__(self, precision: str = "f32") -> None:
        self.precision = precision
        self.name = "openvino" if precision == "f32" else "openvino-bf16"
        self.changes_vectors = precision != "f32"

    def export_precision(self) -> str:
        return "fp32"  # OpenVINO lowers precision itself at compile time

    def stand_in(self, onnx_file: Path, config: Any, threads: int | None) -> torch.nn.Module:
        from embedtune.encoding.onnx_export import RAW_FILE
        from embedtune.encoding.openvino_module import OpenVinoTransformerModel

        # The plain export beside it: the ORT-optimised file holds fused contrib ops OpenVINO does not read.
        return OpenVinoTransformerModel(onnx_file.parent / RAW_FILE, config, self.precision, threads)
