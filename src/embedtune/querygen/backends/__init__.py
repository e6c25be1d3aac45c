"""Query writers: LLM backends behind one interface (OpenAI-compatible endpoint, local model), any of them run on
Ray actors (:func:`generate_on_ray`), and offline signals."""

from embedtune.querygen.backends.base import ChatRequest, ChatResult, QueryBackend
from embedtune.querygen.backends.local_hf import LocalHFBackend
from embedtune.querygen.backends.offline_signals import SIGNALS, offline_queries
from embedtune.querygen.backends.openai_compat import OpenAICompatBackend
from embedtune.querygen.backends.ray_generate import generate_on_ray

__all__ = [
    "SIGNALS",
    "ChatRequest",
    "ChatResult",
    "LocalHFBackend",
    "OpenAICompatBackend",
    "QueryBackend",
    "generate_on_ray",
    "offline_queries",
]
