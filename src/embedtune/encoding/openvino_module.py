"""An OpenVINO compiled model standing in for the Hugging Face model inside sentence-transformers' Transformer.

Same role as :class:`embedtune.encoding.onnx_module.OnnxTransformerModel` (and as optimum-intel's
``OVModelForFeatureExtraction`` behind sentence-transformers' ``backend="openvino"``, which cannot be installed
beside transformers 5): sentence-transformers calls ``transformer.model(**features)`` and reads
``last_hidden_state``, so tokenisation, pooling, normalisation and batching stay its own. Encoding only.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import torch


def compile_options(precision: str, threads: int | None) -> dict[str, Any]:
    """One stream over all our cores (batches arrive one at a time), matrix products at ``precision``."""
    from embedtune.encoding.base import available_cores

    return {
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": threads or available_cores(),
        # bf16 runs on AMX / AVX512-BF16 units; on CPUs without them OpenVINO quietly stays in f32.
        "INFERENCE_PRECISION_HINT": precision,
    }


class OpenVinoTransformerModel(torch.nn.Module):
    """Callable like ``BertModel(input_ids=..., attention_mask=...)``; returns ``{"last_hidden_state": tensor}``."""

    def __init__(self, onnx_path: Path, config: Any, precision: str = "f32", threads: int | None = None) -> None:
        import openvino as ov

        super().__init__()
        self.onnx_path = Path(onnx_path)
        self.config = config  # read by sentence-transformers for the embedding dimension
        core = ov.Core()
        # OpenVINO reads the ONNX file directly (~0.3 s for MiniLM), so no second, IR-format cache is kept.
        self.compiled = core.compile_model(core.read_model(str(onnx_path)), "CPU", compile_options(precision, threads))
        self.input_names = [i.get_any_name() for i in self.compiled.inputs]
        # An infer request is not thread-safe and the server encodes from several threads: one request per thread.
        self._local = threading.local()
        self.device = torch.device("cpu")
        self.dtype = torch.float32

    def forward(self, **features: Any) -> dict[str, torch.Tensor]:
        feeds = {name: features[name].detach().cpu().numpy() for name in self.input_names}
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        hidden = request.infer(feeds)[self.compiled.output(0)]
        # copy: the request reuses its output buffer on the next call
        return {"last_hidden_state": torch.from_numpy(hidden.copy())}

    def __repr__(self) -> str:
        return f"OpenVinoTransformerModel({self.onnx_path})"
