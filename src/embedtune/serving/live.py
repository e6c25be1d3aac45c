"""Serve the version the ``live`` alias points to, and follow it when another process promotes or rolls back.

A background task asks the store for ``live_name()`` every ``poll_interval`` seconds (1 s by default: a
read of a small alias record). When the name changes, the new version and its model are loaded on a thread
while the old one keeps answering, then the served runtime is swapped with one reference assignment:
requests that already hold the old runtime finish on it, later ones get the new one, none sees a mix.
Loaded runtimes stay in a small LRU cache, so a rollback to the previous version is instant.

A live version that cannot be loaded (its model is gone, say) is not served: the old one stays, the reason
is logged and shown by ``/health``, and loading is retried every ``RETRY_S`` seconds or when the alias moves.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict

from embedtune.errors import EmbedtuneError
from embedtune.index.base import LIVE, IndexMeta, IndexStore
from embedtune.index.model import load_version_adapter
from embedtune.serving.config import ServeConfig
from embedtune.serving.errors import ApiError
from embedtune.serving.model_loading import ModelCache, find_model
from embedtune.serving.runtime import VersionRuntime

log = logging.getLogger("embedtune.serving")
RETRY_S = 30.0


class LiveIndex:
    """The runtime being served, plus a cache of other loaded versions. Loads the first one at construction.

    Raises:
        EmbedtuneError: the configured index is unknown, incomplete, or its model cannot be found.
    """

    def __init__(self, store: IndexStore, config: ServeConfig) -> None:
        self.store = store
        self.config = config
        self.live_error: str | None = None
        self._models = ModelCache(config.model_cache, config.inference)
        self._runtimes: OrderedDict[str, VersionRuntime] = OrderedDict()
        self._load_lock = threading.Lock()
        self._failed: tuple[str, float] | None = None
        first = store.live_name() if config.follows_live else config.index
        if first is None:
            raise EmbedtuneError(
                f"{config.store}: no version is live yet; promote one or serve a named version (index=NAME)"
            )
        self._current = self._load(first)

    @property
    def current(self) -> VersionRuntime:
        """The runtime new requests use (swapped atomically by :meth:`refresh`)."""
        return self._current

    def versions(self) -> dict[str, IndexMeta]:
        """Every version of the store by name."""
        return {m.name: m for m in self.store.versions()}

    def get(self, name: str | None) -> VersionRuntime:
        """The runtime of version ``name`` (``None`` or ``"live"``: the served one), loading it if needed.

        Raises:
            ApiError: 404 for an unknown version, 409 for an incomplete one.
        """
        current = self._current
        if name in (None, LIVE, current.name):
            return current
        cached = self._runtimes.get(name)  # one lookup: another thread may evict between two
        if cached is not None:
            return cached
        try:
            return self._load(name, api=True)
        except EmbedtuneError as e:  # the version exists but cannot be served here (its model is missing)
            raise ApiError(503, str(e), param="index") from None

    def load(self, name: str) -> VersionRuntime:
        """Load version ``name`` now (at startup: an A/B arm); EmbedtuneError when it cannot be served."""
        return self._load(name)

    def refresh(self) -> bool:
        """Swap to the version ``live`` points to now, if it moved; True when the served version changed."""
        name = self.store.live_name()
        if name is None or name == self._current.name:
            self._failed, self.live_error = None, None
            return False
        if self._failed and self._failed[0] == name and time.monotonic() - self._failed[1] < RETRY_S:
            return False
        try:
            runtime = self._load(name)
        except (EmbedtuneError, ApiError) as e:
            self._failed = (name, time.monotonic())
            self.live_error = f"live points to {name!r}, which cannot be served: {e}"
            log.error("%s; still serving %r", self.live_error, self._current.name)
            return False
        old, self._current = self._current.name, runtime
        self._failed, self.live_error = None, None
        log.info("now serving index version %r (was %r)", name, old)
        return True

    async def follow(self) -> None:
        """Refresh every ``poll_interval`` seconds until cancelled; a failing check never stops the loop."""
        while True:
            await asyncio.sleep(self.config.poll_interval)
            try:
                await asyncio.to_thread(self.refresh)
            except asyncio.CancelledError:
                raise
            except Exception:  # a store that is briefly unreadable must not end following
                log.exception("checking the live alias failed; still serving %r", self._current.name)

    def _load(self, name: str, api: bool = False) -> VersionRuntime:
        with self._load_lock:
            if name in self._runtimes:
                self._runtimes.move_to_end(name)
                return self._runtimes[name]
            versions = self.versions()
            meta = versions.get(name)
            if meta is None:
                known = ", ".join(sorted(versions)) or "none"
                message = f"unknown index version {name!r} (versions: {known})"
                raise ApiError(404, message, param="index", code="index_not_found") if api else EmbedtuneError(message)
            if not meta.complete:
                message = f"index version {name!r} is incomplete (an interrupted build); finish or rebuild it"
                raise ApiError(409, message, param="index") if api else EmbedtuneError(message)
            version = self.store.open(name)
            path = find_model(version, self.config.model)
            runtime = VersionRuntime(version, self._models.get(path, meta.model_hash), load_version_adapter(meta))
            self._runtimes[name] = runtime
            while len(self._runtimes) > self.config.model_cache:
                self._runtimes.popitem(last=False)
            return runtime
