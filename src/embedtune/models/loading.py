"""Load an embedding model as a SentenceTransformer, offline, whatever form it ships in."""

from __future__ import annotations

import os
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.models.registry import registry_spec, resolve_model

# Never reach for a hub at run time: air-gapped users and CI have no network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_embedder(
    name_or_path: str | Path, device: str = "cpu", *, inference: str | None = None, threads: int | None = None
):  # -> SentenceTransformer
    """A SentenceTransformer for a registry name, a model folder, or a cached hub id.

    Args:
        inference: how encoding runs (``auto``, ``torch``, ``torch-bf16``, ``onnx``, ``onnx-int8``, ``openvino``,
            ``openvino-bf16``; see :mod:`embedtune.encoding`); None uses the process default (``--inference``,
            ``$EMBEDTUNE_INFERENCE``). ``auto`` is resolved here, for this CPU (:mod:`embedtune.hardware`), and
            the model remembers the backend it got (``embedtune.encoding.inference_of``).
            Training always loads with ``torch``.
        threads: intra-op threads for encoding; None lets the backend use every core available.
    """
    from embedtune.encoding import prepare_model

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import StaticEmbedding

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # one "Loading weights" bar per load is noise; our stages show their own
    path = resolve_model(name_or_path)
    spec = registry_spec(str(name_or_path))
    if spec is not None and spec.kind != "embedding":
        raise EmbedtuneError(f"model {spec.name!r} is a text generator, not an embedding model")
    try:
        if spec is not None and spec.loader == "model2vec-static":
            model = SentenceTransformer(modules=[StaticEmbedding.from_model2vec(str(path))], device=device)
        else:
            model = SentenceTransformer(str(path), device=device)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise EmbedtuneError(f"{path}: cannot load as an embedding model ({first})") from None
    return prepare_model(model, path, inference, threads)
