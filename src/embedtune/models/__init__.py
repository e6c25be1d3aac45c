"""Models that load with no network: the offline registry, name resolution and loading."""

from embedtune.models.loading import load_embedder
from embedtune.models.registry import REGISTRY, ModelSpec, list_models, resolve_model

__all__ = ["REGISTRY", "ModelSpec", "list_models", "load_embedder", "resolve_model"]
