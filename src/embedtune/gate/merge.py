"""Weight-space interpolation of a base and a fine-tuned model: theta = (1 - alpha) * base + alpha * tuned.

Fine-tuning moves a model toward the target domain and, often, away from what it did well elsewhere. Averaging
the weights of the fine-tuned model with those of the model it started from keeps much of the in-domain gain
and recovers much of the general quality, at no inference cost: the merge is an ordinary model of the same
architecture. WiSE-FT (Wortsman et al., "Robust fine-tuning of zero-shot models", CVPR 2022) showed this for
CLIP; LM-Cocktail (Xiao et al., "LM-Cocktail: Resilient Tuning of Language Models via Model Merging", 2023)
for embedding models, which is what FlagEmbedding offers its users.

Only floating-point tensors are interpolated; integer buffers (position ids, token type ids) must be equal in
both models and are copied. ``alpha = 0`` and ``alpha = 1`` return the base and tuned tensors themselves, so
those merges reproduce the two models exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from embedtune.errors import EmbedtuneError


def interpolate_state_dicts(base: Mapping[str, Any], tuned: Mapping[str, Any], alpha: float) -> dict[str, Any]:
    """``(1 - alpha) * base + alpha * tuned`` for every float tensor; other entries must be equal and are copied.

    Raises:
        EmbedtuneError: the two state dicts are not of the same architecture (keys, shapes or integer buffers
            differ), or ``alpha`` is outside [0, 1].
    """
    import torch

    if not 0.0 <= alpha <= 1.0:
        raise EmbedtuneError(f"merge weight alpha must be in [0, 1], got {alpha}")
    if set(base) != set(tuned):
        only = sorted(set(base) ^ set(tuned))[:3]
        raise EmbedtuneError(f"cannot merge models of different architectures (parameters differ: {only})")
    out: dict[str, Any] = {}
    for key, b in base.items():
        t = tuned[key]
        if b.shape != t.shape:
            raise EmbedtuneError(f"cannot merge: {key} has shape {tuple(b.shape)} in base, {tuple(t.shape)} in tuned")
        if not torch.is_floating_point(b):
            if not torch.equal(b, t):
                raise EmbedtuneError(f"cannot merge: the non-float buffer {key} differs between the two models")
            out[key] = b.clone()
        elif alpha == 0.0:
            out[key] = b.clone()  # exact endpoints: no rounding from 1.0 * x + 0.0 * y
        elif alpha == 1.0:
            out[key] = t.clone()
        else:
            merged = (1.0 - alpha) * b.to(torch.float32) + alpha * t.to(torch.float32)
            out[key] = merged.to(t.dtype)
    return out


def _load(model: Any) -> Any:
    from sentence_transformers import SentenceTransformer

    from embedtune.models.loading import load_embedder

    if isinstance(model, SentenceTransformer):
        return model
    return load_embedder(model, inference="torch")  # merging reads plain torch weights


def merge_models(base: Any, tuned: Any, alpha: float, output_dir: str | Path | None = None) -> Any:
    """A new SentenceTransformer with weights ``(1 - alpha) * base + alpha * tuned``; saved to ``output_dir`` if given.

    ``base`` and ``tuned`` are SentenceTransformer objects or anything :func:`embedtune.models.load_embedder`
    accepts (a registry name, a model folder). The merge takes the tuned model's modules, tokenizer and
    settings (its max sequence length, prompts), only the weights are interpolated.

    Example::

        from embedtune.gate import merge_models

        merged = merge_models("all-MiniLM-L6-v2", "embedtune-runs/default/train/model", 0.5, "merged-0.5")
        merged.encode(["a query"])
    """
    base_model, tuned_model = _load(base), _load(tuned)
    merged = copy.deepcopy(tuned_model)
    merged.load_state_dict(interpolate_state_dicts(base_model.state_dict(), tuned_model.state_dict(), alpha))
    if output_dir is not None:
        merged.save(str(output_dir))
    return merged
