"""Bounded concurrency for encoding and searching: a semaphore in front of a fixed thread pool, and a bounded queue.

Encoding is CPU-bound and blocks; run on the event loop it would stall every other request, health checks
included. Jobs run on ``concurrency`` threads (torch releases the GIL in its kernels), and requests beyond
that wait on the semaphore, where a client that disconnects is dropped before any work is done for it.

Waiting is bounded too, so an overloaded server answers at once rather than holding connections for minutes:
with ``max_queue`` requests already waiting a new one is refused with 429, and one that waited
``queue_timeout`` seconds without a slot gets 503; both carry ``Retry-After``. The app runs two lanes of
workers (embeddings, and searches), so large embedding batches can never hold the slots a one-word search needs.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from embedtune.serving.errors import ApiError

P = ParamSpec("P")
T = TypeVar("T")


class Workers:
    """Run blocking jobs off the event loop, at most ``concurrency`` at a time and ``max_queue`` waiting.

    Args:
        concurrency: jobs running at once.
        max_queue: requests that may wait for a slot; more are refused with 429.
        queue_timeout: seconds a request may wait for a slot before it is answered 503.
        name: the lane, for thread names and messages (``embeddings``, ``search``).
    """

    def __init__(
        self, concurrency: int, max_queue: int = 64, queue_timeout: float = 30.0, name: str = "serve"
    ) -> None:
        self.concurrency = concurrency
        self.max_queue = max_queue
        self.queue_timeout = queue_timeout
        self.name = name
        self.waiting = 0
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"embedtune-{name}")
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def retry_after(self) -> dict[str, str]:
        """The ``Retry-After`` header: about how long the work ahead of a new request takes."""
        return {"Retry-After": str(max(1, math.ceil(self.queue_timeout)))}

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a worker thread, once a slot is free.

        Raises:
            ApiError: 429 when the queue is full, 503 when no slot freed up within ``queue_timeout``.
        """
        if self._semaphore is None:  # created on the server's loop, not at import or app-construction time
            self._semaphore = asyncio.Semaphore(self.concurrency)
        if self._semaphore.locked() and self.waiting >= self.max_queue:
            raise ApiError(429, f"the server is busy: {self.waiting} {self.name} requests are already waiting; "
                                "retry later", code="queue_full", headers=self.retry_after)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.queue_timeout)
        except TimeoutError:
            raise ApiError(503, f"the server is busy: no {self.name} worker freed up within "
                                f"{self.queue_timeout:g} s; retry later", code="queue_timeout",
                           headers=self.retry_after) from None
        finally:
            self.waiting -= 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args, **kwargs))
        finally:
            self._semaphore.release()

    def close(self) -> None:
        """Stop accepting jobs; running ones finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
