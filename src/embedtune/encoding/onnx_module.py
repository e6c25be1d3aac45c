"""An ONNX Runtime session standing in for the Hugging Face model inside sentence-transformers' Transformer.

sentence-transformers calls ``transformer.model(**features)`` and reads ``last_hidden_state``; this module
answers that call with an InferenceSession, so tokenisation, prompts, pooling, normalisation, truncation and
batching stay sentence-transformers' own (the role optimum's ``ORTModelForFeatureExtraction`` plays with
``backend="onnx"``). Encoding only: it has no gradients and no weights to train.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def session_options(threads: int | None):  # -> onnxruntime.SessionOptions
    """One intra-op pool as wide as the cores we may use; all graph optimisations on."""
    import onnxruntime as ort

    from embedtune.encoding.base import available_cores

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or available_cores()
    so.inter_op_num_threads = 1  # a BERT graph is a chain: parallel branches buy nothing, extra threads cost
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return so


class OnnxTransformerModel(torch.nn.Module):
    """Callable like ``BertModel(input_ids=..., attention_mask=...)``; returns ``{"last_hidden_state": tensor}``."""

    def __init__(self, onnx_path: Path, config: Any, threads: int | None = None) -> None:
        import onnxruntime as ort

        super().__init__()
        self.onnx_path = Path(onnx_path)
        self.config = config  # read by sentence-transformers for the embedding dimension
        self.session = ort.InferenceSession(str(onnx_path), session_options(threads), providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.device = torch.device("cpu")
        self.dtype = torch.float32

    def forward(self, **features: Any) -> dict[str, torch.Tensor]:
        feeds = {name: features[name].detach().cpu().numpy() for name in self.input_names}
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return {"last_hidden_state": torch.from_numpy(hidden)}

    def __repr__(self) -> str:
        return f"OnnxTransformerModel({self.onnx_path})"
