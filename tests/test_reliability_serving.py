"""Issue 20, D7 and D12: the server bounds work and waiting, keeps /search responsive, exposes no more than needed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_serving_support import serving, store_dir  # noqa: F401  (fixture)

from embedtune.serving.runtime import VersionRuntime

BLOCK = "block this worker"


@pytest.fixture
def blocking_embed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Embedding ``BLOCK`` holds its worker until released: (started, release)."""
    started, release = threading.Event(), threading.Event()
    real = VersionRuntime.embed

    def embed(self, texts, *args, **kwargs):
        if list(texts) == [BLOCK]:
            started.set()
            release.wait(30)
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(VersionRuntime, "embed", embed)
    yield started, release
    release.set()


def _hold_embedding_worker(url: str, started: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=httpx.post, args=(f"{url}/v1/embeddings",),
                              kwargs={"json": {"input": BLOCK}, "timeout": 60})
    thread.start()
    assert started.wait(30)
    return thread


# D7: bounded work, bounded waiting, /search never starved by embeddings


def test_full_queue_is_429_with_retry_after(store_dir: Path, blocking_embed) -> None:  # noqa: F811
    started, release = blocking_embed
    with serving(store_dir, concurrency=1, max_queue=0, queue_timeout=5) as url:
        holder = _hold_embedding_worker(url, started)
        response = httpx.post(f"{url}/v1/embeddings", json={"input": "x"}, timeout=10)
        release.set()
        holder.join()
    assert response.status_code == 429 and response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "queue_full"


def test_waiting_too_long_is_503_with_retry_after(store_dir: Path, blocking_embed) -> None:  # noqa: F811
    started, release = blocking_embed
    with serving(store_dir, concurrency=1, max_queue=4, queue_timeout=0.3) as url:
        holder = _hold_embedding_worker(url, started)
        t0 = time.monotonic()
        response = httpx.post(f"{url}/v1/embeddings", json={"input": "x"}, timeout=10)
        waited = time.monotonic() - t0
        release.set()
        holder.join()
    assert response.status_code == 503 and response.headers["retry-after"] == "1" and waited < 5
    assert response.json()["error"]["code"] == "queue_timeout"


def test_search_answers_while_embeddings_hold_every_worker(store_dir: Path, blocking_embed) -> None:  # noqa: F811
    started, release = blocking_embed
    with serving(store_dir, concurrency=1, max_queue=4, queue_timeout=20) as url:
        holder = _hold_embedding_worker(url, started)
        response = httpx.post(f"{url}/search", json={"query": "cells", "k": 3}, timeout=10)
        release.set()
        holder.join()
    assert response.status_code == 200 and len(response.json()["hits"]) == 3


def test_tokens_per_request_are_bounded(store_dir: Path) -> None:  # noqa: F811
    with serving(store_dir, max_tokens=40) as url:
        ok = httpx.post(f"{url}/v1/embeddings", json={"input": ["short text", "another one"]}, timeout=30)
        refused = httpx.post(f"{url}/v1/embeddings", json={"input": ["word " * 30] * 3}, timeout=30)
    assert ok.status_code == 200 and ok.json()["usage"]["total_tokens"] <= 40
    assert refused.status_code == 413 and refused.json()["error"]["code"] == "too_many_tokens"
    assert "the limit is 40 per request (max_tokens)" in refused.json()["error"]["message"]


# D12: bounded feedback, docs behind the key, no paths in /health


def _feedback(url: str, **override) -> httpx.Response:
    body = {"query": "q", "results": [{"id": "a#0", "position": 1}], "clicks": [{"id": "a#0"}]} | override
    return httpx.post(f"{url}/feedback", json=body, timeout=30)


def test_feedback_fields_are_bounded(store_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    log = tmp_path / "feedback.jsonl"
    huge = "x" * (1 << 20)
    with serving(store_dir, feedback_log=log) as url:
        cases = {
            "results[0].id has 1,048,576 characters": _feedback(url, results=[{"id": huge, "position": 1}],
                                                                clicks=[]),
            "results[0].position = 99999": _feedback(url, results=[{"id": "a#0", "position": 99_999}], clicks=[]),
            "clicks[0].dwell_s": _feedback(url, clicks=[{"id": "a#0", "dwell_s": 1e300}]),
            "index": _feedback(url, index="v" * 500),
        }
        assert _feedback(url).status_code == 200
    for fragment, response in cases.items():
        assert response.status_code == 422 and fragment in response.json()["error"]["message"], response.text
    assert len(log.read_text().splitlines()) == 1  # only the valid record was written


@pytest.mark.parametrize(("settings", "open_without_key"), [
    ({"api_key": "s3cret"}, False),
    ({"api_key": "s3cret", "public_docs": True}, True),
    ({}, True),
])
def test_docs_are_behind_the_api_key(store_dir: Path, settings: dict, open_without_key: bool) -> None:  # noqa: F811
    with serving(store_dir, **settings) as url:
        anonymous = [httpx.get(f"{url}{path}", timeout=30) for path in ("/docs", "/openapi.json")]
        keyed = [httpx.get(f"{url}{path}", headers={"Authorization": "Bearer s3cret"}, timeout=30)
                 for path in ("/docs", "/openapi.json")]
        health = httpx.get(f"{url}/health", timeout=30)
    assert [r.status_code for r in anonymous] == ([200, 200] if open_without_key else [401, 401])
    assert [r.status_code for r in keyed] == [200, 200]
    assert "/v1/embeddings" in keyed[1].json()["paths"]
    assert health.status_code == 200  # probes need no key


def test_health_names_version_and_hash_not_the_model_folder(
    store_dir: Path, tiny_model_dir: Path  # noqa: F811
) -> None:
    with serving(store_dir) as url:
        health = httpx.get(f"{url}/health", timeout=30).json()
    assert health["index"] == "v1" and len(health["model_hash"]) >= 16
    assert "model" not in health and str(tiny_model_dir.resolve()) not in str(health)
