"""Query writers: LLM backends behind one interface (OpenAI-compatible endpoint, local model) and offline signals."""

from embedtune.querygen.backends.base import ChatRequest, ChatResult, QueryBackend
from embedtune.querygen.backends.local_hf import LocalHFBackend
from embedtune.querygen.backends.offline_signals import SIGNALS, offline_queries
from embedtune.querygen.backends.openai_compat import OpenAICompatBackend

__all__ = [
    "SIGNALS",
    "ChatRequest",
    "ChatResult",
    "LocalHFBackend",
    "OpenAICompatBackend",
    "QueryBackend",
    "offline_queries",
]
