"""Query writing through any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server,
LM Studio, ...).

Optimises for finishing a long paid run with no double spending: bounded concurrency, a requests-per-minute cap,
retries with exponential backoff and jitter on 429 / 5xx / timeouts / malformed replies (bounded attempts,
``Retry-After`` honoured), and hard stops with one clear line on errors a retry cannot fix (401, 404, an
endpoint never reached). The API key is read from an environment variable and never logged or stored.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any

import httpx

from embedtune.errors import EmbedtuneError
from embedtune.querygen.backends.base import ChatRequest, ChatResult, OnResult, QueryBackend
from embedtune.querygen.parsing import ParseError, parse_query_list

_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


class _RateLimiter:
    """Spaces request starts at least ``60 / rpm`` seconds apart (every attempt counts, retries too)."""

    def __init__(self, requests_per_minute: float | None) -> None:
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = asyncio.get_running_loop().time()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class OpenAICompatBackend(QueryBackend):
    """Chat-completions client that asks for a JSON list of ``n`` queries per call.

    ``base_url`` includes the API prefix, e.g. ``https://api.openai.com/v1`` or ``http://localhost:11434/v1``
    (Ollama). Without the environment variable ``api_key_env`` no ``Authorization`` header is sent, which is
    what local servers expect. ``transport`` is for tests.
    """

    name = "openai"
    family = "list"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        requests_per_minute: float | None = None,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        timeout: float = 60.0,
        temperature: float = 0.7,
        max_tokens_per_query: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url:
            raise EmbedtuneError("the openai backend needs a base_url (e.g. https://api.openai.com/v1)")
        if not model:
            raise EmbedtuneError("the openai backend needs a model (the name the endpoint serves)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.cache_id = f"openai:{model}@{self.base_url}"
        self.api_key_env = api_key_env
        self.concurrency = max(1, concurrency)
        self.requests_per_minute = requests_per_minute
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.temperature = temperature
        self.max_tokens_per_query = max_tokens_per_query
        self._transport = transport
        self._reached = False
        self.retries = 0

    def __repr__(self) -> str:  # the key never appears, only where it is read from
        return f"OpenAICompatBackend({self.base_url!r}, model={self.model!r}, api_key_env={self.api_key_env!r})"

    def generate(self, requests: Sequence[ChatRequest], on_result: OnResult) -> None:
        if not requests:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._run(requests, on_result))
            return
        # Called from inside an event loop (a notebook): run ours on a worker thread.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, self._run(requests, on_result)).result()

    async def _run(self, requests: Sequence[ChatRequest], on_result: OnResult) -> None:
        headers = {}
        if key := os.environ.get(self.api_key_env, "").strip():
            headers["Authorization"] = f"Bearer {key}"
        limiter = _RateLimiter(self.requests_per_minute)
        gate = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=self.timeout,
            transport=self._transport,
            limits=httpx.Limits(max_connections=self.concurrency),
        ) as client:

            async def one(request: ChatRequest) -> None:
                async with gate:
                    result = await self._call(client, limiter, request)
                on_result(request, result)

            tasks = [asyncio.create_task(one(r)) for r in requests]
            try:
                await asyncio.gather(*tasks)
            finally:  # a fatal error or a kill: stop the calls still in flight
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _backoff(self, attempt: int) -> float:
        # Exponential with "equal jitter": never hammer in lockstep, never wait less than half the step.
        step = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return step * random.uniform(0.5, 1.0)

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": list(request.messages),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens_per_query * request.n + 32,
        }

    def _fatal(self, response: httpx.Response) -> EmbedtuneError:
        code = response.status_code
        if code in (401, 403):
            # The server's text may echo part of the key: say only where the key comes from.
            return EmbedtuneError(
                f"{self.base_url}: HTTP {code} {response.reason_phrase}; check the API key in ${self.api_key_env}"
            )
        try:
            detail = response.json().get("error", {})
            detail = detail.get("message", "") if isinstance(detail, dict) else str(detail)
        except (ValueError, AttributeError):
            detail = response.text
        detail = " ".join(str(detail).split())[:200]
        hint = "; check model and base_url" if code == 404 else ""
        return EmbedtuneError(f"{self.base_url}: HTTP {code} {response.reason_phrase}: {detail}{hint}")

    async def _call(self, client: httpx.AsyncClient, limiter: _RateLimiter, request: ChatRequest) -> ChatResult:
        result = ChatResult()
        for attempt in range(1, self.max_attempts + 1):
            await limiter.wait()
            wait = self._backoff(attempt)
            try:
                response = await client.post("/chat/completions", json=self._body(request))
            except httpx.TimeoutException:
                result.error = "timeout"
            except httpx.TransportError as e:
                if not self._reached:  # a wrong URL or a server that is down: retrying will not help
                    raise EmbedtuneError(f"{self.base_url}: cannot reach the endpoint ({type(e).__name__}: {e})") from None
                result.error = f"{type(e).__name__}"
            else:
                if response.status_code in _RETRY_STATUS:
                    result.error = f"HTTP {response.status_code}"
                    if (asked := _retry_after(response)) is not None:
                        wait = min(asked, self.backoff_max)
                elif response.status_code >= 400:
                    raise self._fatal(response)
                else:
                    self._reached = True
                    if self._read(response, request, result):
                        result.error = None
                        return result
            if attempt < self.max_attempts:
                self.retries += 1
                await asyncio.sleep(wait)
        return result

    def _read(self, response: httpx.Response, request: ChatRequest, result: ChatResult) -> bool:
        """Fill ``result`` from a 200 reply; False (with ``result.error``) when it holds no usable queries."""
        try:
            data = response.json()
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            result.error = "malformed response"
            return False
        usage = data.get("usage") or {}
        # A reply that parses badly was still paid for: tally its tokens too.
        result.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        result.completion_tokens += int(usage.get("completion_tokens") or 0)
        try:
            result.queries = parse_query_list(content or "", request.n)
        except ParseError:
            result.error = "unparseable reply"
            return False
        return True
