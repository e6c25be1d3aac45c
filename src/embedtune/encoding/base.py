"""What an inference backend is, which one a loaded model uses, and the default when none is named.

An inference backend decides *how* a SentenceTransformer's forward pass runs (fp32 torch, bf16 autocast, ONNX
Runtime fp32 or int8, OpenVINO f32 or bf16), never *what* the model is: every backend takes the same model
folder and gives vectors of the same shape and space. Backends whose vectors differ measurably from fp32 (bf16,
int8) say so with ``changes_vectors``, and the embedding cache keys on their name, so fp32 vectors are never
mixed with int8 ones.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from embedtune.errors import EmbedtuneError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# "auto" is not a backend: embedtune.hardware.resolve_inference turns it into one for this CPU at load time.
Inference = Literal["auto", "torch", "torch-bf16", "onnx", "onnx-int8", "openvino", "openvino-bf16"]
INFERENCE_NAMES: tuple[str, ...] = get_args(Inference)
DEFAULT_INFERENCE: Inference = "torch"
ENV_VAR = "EMBEDTUNE_INFERENCE"
_ATTR = "_embedtune_inference"  # set on a loaded SentenceTransformer by load_embedder


class InferenceBackend:
    """One way of running a model's forward pass. Subclasses override :meth:`prepare` and/or :meth:`context`."""

    name: str = "torch"
    changes_vectors: bool = False  # True when vectors differ from fp32 beyond float noise (bf16, int8)

    def prepare(self, model: SentenceTransformer, path: Path, threads: int | None) -> SentenceTransformer:
        """Adapt a freshly loaded fp32 model (export, swap modules); returns the model to encode with."""
        return model

    def context(self) -> AbstractContextManager:
        """Entered around every encode call (e.g. autocast)."""
        return nullcontext()


def check_inference(name: str) -> Inference:
    """``name`` if it is a known backend, else an EmbedtuneError listing them."""
    if name not in INFERENCE_NAMES:
        raise EmbedtuneError(f"unknown inference backend {name!r}; choose one of {', '.join(INFERENCE_NAMES)}")
    return name  # type: ignore[return-value]


def configured_inference() -> Inference:
    """The backend ``load_embedder`` uses when none is passed: ``$EMBEDTUNE_INFERENCE``, else ``torch``; may be
    ``auto``. Commands choose theirs explicitly (:class:`embedtune.retrieval.runner.Runner`)."""
    return check_inference(os.environ.get(ENV_VAR) or DEFAULT_INFERENCE)


def default_inference() -> Inference:
    """:func:`configured_inference` with ``auto`` resolved for this machine.

    Always a real backend: callers pass it to other processes (Ray actors) and into cache keys, which must
    name the backend chosen here, not one each machine would pick for itself.
    """
    from embedtune.hardware import resolve_inference

    return resolve_inference(configured_inference())  # type: ignore[return-value]


def resolved_inference(name: str | None) -> Inference:
    """``name`` checked, with ``auto`` (and None: the process default) resolved for this machine."""
    from embedtune.hardware import resolve_inference

    return resolve_inference(check_inference(name)) if name else default_inference()  # type: ignore[return-value]


def inference_of(model: object) -> Inference:
    """The backend a model was loaded with, never ``auto`` (``torch`` for a model not loaded by ``load_embedder``)."""
    return getattr(model, _ATTR, DEFAULT_INFERENCE)


def mark(model: object, name: str, path: Path | None = None) -> None:
    object.__setattr__(model, _ATTR, name)  # nn.Module.__setattr__ would be fine too; this skips its checks
    if path is not None:
        object.__setattr__(model, "_embedtune_path", str(path))


def model_path_of(model: object) -> str | None:
    """The folder ``load_embedder`` loaded the model from (None for models built in memory)."""
    return getattr(model, "_embedtune_path", None)


def available_cores() -> int:
    """CPU cores this process may run on (cgroup/affinity aware), the right thread count for one encoder."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
