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
        max_tokens: most tokens one ``/v1/embeddings`` request may have the model read (each input counted up to
            the model's sequence limit): characters alone do not bound the work of a long-context model.
        concurrency: most encode jobs, and separately most search jobs, running at once (the rest wait; the
            event loop stays free).
        max_queue: most requests waiting for a worker, per lane; more are answered 429 with Retry-After.
        queue_timeout: seconds a request may wait for a worker before it is answered 503 with Retry-After.
        max_k: largest ``k`` a search may ask for.
        feedback_log: JSON-lines file ``/feedback`` appends to; None turns ``/feedback`` off.
        poll_interval: seconds between checks of the live alias.
        model_cache: how many loaded versions (model + lexical index) stay in memory, so a rollback is instant.
        explore_rate: share of searches in which one random adjacent pair of results is swapped (and the swap
            logged), so position bias can be measured from randomised data (see ``embedtune.feedback.propensity``).
        ab: two version names (A = control, B = candidate) to serve as an A/B test; None serves one version.
        ab_split: share of users (sticky by user, else session id) on arm B in ``split`` mode.
        ab_mode: ``split`` (each user sees one arm) or ``interleave`` (team-draft: both arms in every list).
        seed: seed of the exploration and interleaving coins (None: fresh randomness).
        remember_searches: how many recent searches the server keeps so ``/feedback`` with a ``search_id``
            gets its arm, teams and swap filled in by the server.
        public_docs: leave ``/docs`` and ``/openapi.json`` open when an API key is set (by default they need it).
        inference: the backend query (and ``/v1/embeddings``) encoding loads models with (``--inference``; index
            vectors were made by the build's); None: ``load_embedder``'s default (``$EMBEDTUNE_INFERENCE``, else torch).
    """

    store: str
    index: str = LIVE
    backend: Literal["lancedb", "milvus"] | None = None
    model: str | None = None
    api_key: str | None = None
    max_batch: int = 256
    max_chars: int = 8192
    max_tokens: int = 32_768
    concurrency: int = 4
    max_queue: int = 64
    queue_timeout: float = 30.0
    max_k: int = 1000
    feedback_log: Path | None = None
    poll_interval: float = 1.0
    model_cache: int = 3
    explore_rate: float = 0.0
    ab: tuple[str, str] | None = None
    ab_split: float = 0.5
    ab_mode: Literal["split", "interleave"] = "split"
    seed: int | None = None
    remember_searches: int = 100_000
    public_docs: bool = False
    inference: str | None = None

    def __post_init__(self) -> None:
        for name in ("max_batch", "max_chars", "max_tokens", "concurrency", "max_k", "model_cache"):
            if getattr(self, name) < 1:
                raise EmbedtuneError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_queue < 0:
            raise EmbedtuneError(f"max_queue must be 0 or more, got {self.max_queue}")
        if self.queue_timeout <= 0:
            raise EmbedtuneError(f"queue_timeout must be positive, got {self.queue_timeout}")
        if self.poll_interval <= 0:
            raise EmbedtuneError(f"poll_interval must be positive, got {self.poll_interval}")
        if not 0.0 <= self.explore_rate <= 1.0:
            raise EmbedtuneError(f"explore_rate must be between 0 and 1, got {self.explore_rate}")
        if not 0.0 <= self.ab_split <= 1.0:
            raise EmbedtuneError(f"ab_split must be between 0 and 1, got {self.ab_split}")
        if self.ab_mode not in ("split", "interleave"):
            raise EmbedtuneError(f"ab_mode must be split or interleave, got {self.ab_mode!r}")
        if self.ab is not None and (len(self.ab) != 2 or self.ab[0] == self.ab[1] or not all(self.ab)):
            raise EmbedtuneError(f"ab needs two different version names (A, B); got {','.join(self.ab)!r}")
        if self.remember_searches < 0:
            raise EmbedtuneError(f"remember_searches must be >= 0, got {self.remember_searches}")
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
