"""Inference backends behind one API: how a model's forward pass runs when embedtune encodes.

Every stage that encodes (evaluation, mining, index build, serving) loads its model with
``embedtune.models.load_embedder(path, inference=...)`` and encodes with
``embedtune.retrieval.encode_texts`` / ``encode_corpus``; the backend chosen at load time travels with the
model object, so no caller changes. Backends:

=============  ====================================================  =============================
name           what runs                                             vectors vs fp32
=============  ====================================================  =============================
auto           the backend picked for this CPU (embedtune.hardware)   that backend's
torch          PyTorch fp32 (the default, the reference)             identical
torch-bf16     PyTorch under bf16 autocast (AMX / AVX512-BF16)       cosine ~0.9999
onnx           ONNX Runtime fp32, graph-optimised export             float noise (shares the cache)
onnx-int8      ONNX Runtime, dynamic int8 quantisation (VNNI/AMX)    cosine ~0.997
openvino       OpenVINO f32, fused CPU kernels                       float noise (shares the cache)
openvino-bf16  OpenVINO, bf16 matrix products (AMX / AVX512-BF16)    cosine ~0.99997 (fastest here)
=============  ====================================================  =============================

Choose with ``--inference NAME`` on the CLI, ``inference:`` in the run config, a
:class:`~embedtune.retrieval.runner.Runner` in Python, or ``$EMBEDTUNE_INFERENCE`` (the default of a
``load_embedder`` call that names none). ONNX exports (read by the ONNX Runtime and OpenVINO backends) are cached per
model content in ``~/.cache/embedtune/onnx/``.
"""

from __future__ import annotations

from embedtune.encoding.base import (
    DEFAULT_INFERENCE,
    INFERENCE_NAMES,
    Inference,
    InferenceBackend,
    available_cores,
    check_inference,
    default_inference,
    inference_of,
    resolved_inference,
)
from embedtune.encoding.onnx_runtime import OnnxBackend
from embedtune.encoding.openvino_runtime import OpenVinoBackend
from embedtune.encoding.torch_bf16 import TorchBf16Backend
from embedtune.encoding.torch_fp32 import TorchBackend

BACKENDS: dict[str, InferenceBackend] = {
    "torch": TorchBackend(),
    "torch-bf16": TorchBf16Backend(),
    "onnx": OnnxBackend("fp32"),
    "onnx-int8": OnnxBackend("int8"),
    "openvino": OpenVinoBackend("f32"),
    "openvino-bf16": OpenVinoBackend("bf16"),
}


def get_backend(name: str) -> InferenceBackend:
    """The backend called ``name`` (``auto``: the one picked for this CPU; EmbedtuneError for an unknown one)."""
    return BACKENDS[resolved_inference(name)]


def backend_of(model: object) -> InferenceBackend:
    """The backend a loaded model encodes with."""
    return BACKENDS[inference_of(model)]


def vectors_tag(model: object) -> str | None:
    """The backend's name when its vectors differ from fp32 (a cache-key part), else None."""
    backend = backend_of(model)
    return backend.name if backend.changes_vectors else None


__all__ = [
    "BACKENDS",
    "DEFAULT_INFERENCE",
    "INFERENCE_NAMES",
    "Inference",
    "InferenceBackend",
    "available_cores",
    "backend_of",
    "check_inference",
    "default_inference",
    "get_backend",
    "inference_of",
    "prepare_model",
    "resolved_inference",
    "vectors_tag",
]


def prepare_model(model, path, inference: str | None = None, threads: int | None = None):  # -> SentenceTransformer
    """Put a freshly loaded fp32 SentenceTransformer on backend ``inference`` (default: :func:`default_inference`).

    ``auto`` becomes the backend :func:`embedtune.hardware.resolve_inference` picks for this CPU; the model is
    marked with that name (so cache keys and Ray actors see the real backend). Non-transformer models (static
    embeddings) stay on ``torch`` for the exported (ONNX, OpenVINO) backends, with a warning.
    """
    from pathlib import Path

    from embedtune.encoding.base import configured_inference, mark
    from embedtune.encoding.onnx_runtime import fallback_warning

    asked = check_inference(inference or configured_inference())
    name = resolved_inference(asked)
    backend = BACKENDS[name]
    if isinstance(backend, OnnxBackend) and not backend.supports(model):
        if asked != "auto":  # auto promised the fastest that works, not this backend: no warning
            fallback_warning(name)
        name, backend = "torch", BACKENDS["torch"]
    try:
        model = backend.prepare(model, Path(path), threads)
    except Exception as e:  # auto promised a backend that works: an export or compile failure falls back to torch
        if asked != "auto" or name == "torch":
            raise
        from embedtune.progress import console

        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        console.print(f"[yellow]note:[/] auto picked {name} but it failed here ({first}); using torch", highlight=False)
        name, backend = "torch", BACKENDS["torch"]
        model = backend.prepare(model, Path(path), threads)
    mark(model, name, Path(path))
    return model
