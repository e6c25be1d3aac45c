"""The settings of one server: which store and index it serves, and the limits it enforces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from embedtune.errors import EmbedtuneError
from embedtune.index.base import LIVE

# JSON escapes a non-ASCII character as up to 12 bytes (a surrogate pair of \uXXXX); 6 covers most text.
_BYTES_PER_CHAR = 6
_BODY_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class ServeConfig:
    """What ``embedtune serve`` serves and how much it accepts.

    Args:
        store: the index store (a folder for LanceDB, a URI for Milvus).
        index: a version name, or ``"live"`` to follow the live alias (promotions apply without restart).
        backend: ``"lancedb"`` or ``"milvus"``; None: the one the store was created with.
        model: a model folder to load instead of the one recorded in each version's metadata (when the model
            moved since the index was built); it must be the same model (its content hash is checked).
        api_key: the key clients must send as ``Authorization: Bearer <key>``; None serves without one.
        max_batch: most inputs in one ``/v1/embeddings`` request.
        max_chars: most characters in one input text or query.
        concurrency: most encode/search jobs running at once (the rest wait; the event loop stays free).
        max_k: largest ``k`` a search may ask for.
        feedback_log: JSON-lines file ``/feedback`` appends to; None turns ``/feedback`` off.
        poll_interval: seconds between checks of the live alias.
        model_cache: how many loaded versions (model + lexical index) stay in memory, so a rollback is instant.
    """

    store: str
    index: str = LIVE
    backend: Literal["lancedb", "milvus"] | None = None
    model: str | None = None
    api_key: str | None = None
    max_batch: int = 256
    max_chars: int = 8192
    concurrency: int = 4
    max_k: int = 1000
    feedback_log: Path | None = None
    poll_interval: float = 1.0
    model_cache: int = 3

    def __post_init__(self) -> None:
        for name in ("max_batch", "max_chars", "concurrency", "max_k", "model_cache"):
            if getattr(self, name) < 1:
                raise EmbedtuneError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.poll_interval <= 0:
            raise EmbedtuneError(f"--poll-interval must be positive, got {self.poll_interval}")
        if self.api_key is not None and not self.api_key.strip():
            raise EmbedtuneError("the API key is empty")

    @property
    def follows_live(self) -> bool:
        """Whether the server tracks the live alias (rather than one pinned version)."""
        return self.index == LIVE

    @property
    def max_body_bytes(self) -> int:
        """Largest request body: a full batch of the longest texts, JSON-escaped, plus room for the rest."""
        return self.max_batch * self.max_chars * _BYTES_PER_CHAR + _BODY_OVERHEAD
