"""Bounded concurrency for encoding and searching: a semaphore in front of a fixed thread pool.

Encoding is CPU-bound and blocks; run on the event loop it would stall every other request, health checks
included. Jobs run on ``concurrency`` threads (torch releases the GIL in its kernels), and requests beyond
that wait on the semaphore, where a client that disconnects is dropped before any work is done for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Workers:
    """Run blocking jobs off the event loop, at most ``concurrency`` at a time."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="embedtune-serve")
        self._semaphore: asyncio.Semaphore | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a worker thread, once a slot is free."""
        if self._semaphore is None:  # created on the server's loop, not at import or app-construction time
            self._semaphore = asyncio.Semaphore(self.concurrency)
        async with self._semaphore:
            return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Stop accepting jobs; running ones finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
