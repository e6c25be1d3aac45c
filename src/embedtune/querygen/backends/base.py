"""The one interface of the LLM query writers: chat messages in, query strings out, one callback per call.

A backend only talks to a model. Choosing chunks, rendering prompts, caching and filtering happen around it, so a
new backend (another API, another runtime) is one small class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from embedtune.querygen.prompts import Family


@dataclass(frozen=True)
class ChatRequest:
    """One model call: ``messages`` (a trailing assistant message is a pre-fill) asking for ``n`` queries."""

    key: str
    messages: tuple[dict[str, str], ...]
    n: int


@dataclass
class ChatResult:
    """What one call produced. ``error`` set means the call failed for good (nothing to cache; a rerun retries)."""

    queries: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


OnResult = Callable[[ChatRequest, ChatResult], None]


class QueryBackend(ABC):
    """Writes queries for rendered prompts.

    ``family`` picks the prompt templates: ``list`` backends return up to ``n`` queries per call, ``single``
    backends exactly one (the caller then makes ``n`` calls with distinct sample indices).
    """

    name: ClassVar[str]
    family: ClassVar[Family]
    model: str
    """The model name recorded on each query."""
    cache_id: str
    """What identifies the model in the cache key (name plus endpoint, or weights fingerprint)."""
    retries: int = 0
    """Calls repeated after a transient failure so far (backends that retry count them)."""

    @abstractmethod
    def generate(self, requests: Sequence[ChatRequest], on_result: OnResult) -> None:
        """Run every request, calling ``on_result`` as each finishes (in any order) so it can be cached at once."""

    def close(self) -> None:
        """Release clients or model memory."""
