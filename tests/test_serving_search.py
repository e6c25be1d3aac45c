"""``/search`` and ``/health`` over httpx, and the JSON errors every endpoint answers bad requests with."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import sample_texts
from test_serving_support import N_CHUNKS, serving, store_dir  # noqa: F401  (fixture)

from embedtune.index import embed_for, open_store
from embedtune.models import load_embedder


@pytest.fixture(scope="module")
def server(store_dir: Path):  # noqa: F811
    with serving(store_dir, max_chars=2000, max_batch=4, max_k=50) as url:
        yield url


def error_of(response: httpx.Response, status: int) -> dict:
    """The OpenAI-style error body of a response that must have ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"] and error["type"]
    return error


def test_health(server: str, tiny_model_dir: Path) -> None:
    health = httpx.get(f"{server}/health").json()
    assert health["status"] == "ok" and health["index"] == "v1" and health["follows_live"] is True
    assert "model" not in health and str(tiny_model_dir) not in json.dumps(health)  # no file layout on an open endpoint
    assert (health["dim"], health["model_dim"], health["count"]) == (32, 32, N_CHUNKS)
    assert health["live_error"] is None


def test_dense_search_is_the_versions_own_search(
    server: str, store_dir: Path, tiny_model_dir: Path  # noqa: F811
) -> None:
    query = "insulin resistance in obesity"
    got = httpx.post(f"{server}/search", json={"query": query, "k": 5}).json()
    version = open_store(store_dir).open("v1")
    want = version.search(embed_for(load_embedder(tiny_model_dir), version.meta, [query]), 5)[0]
    assert got["index"] == "v1" and got["mode"] == "dense"
    assert [h["id"] for h in got["hits"]] == [h.id for h in want]
    np.testing.assert_allclose([h["score"] for h in got["hits"]], [h.score for h in want], atol=1e-5)
    assert all(h["doc_id"] == h["id"].split("#")[0] and h["text"] for h in got["hits"])


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_a_passage_finds_itself(server: str, mode: str) -> None:
    text = sample_texts(N_CHUNKS)[7]
    hits = httpx.post(f"{server}/search", json={"query": text, "k": 3, "mode": mode}).json()["hits"]
    assert len(hits) == 3 and hits[0]["id"] == "a-7#0" and hits[0]["text"] == text
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    if mode == "hybrid":  # first in both rankings: the RRF maximum 2 / (60 + 1)
        assert scores[0] == pytest.approx(2 / 61)


def test_search_a_named_version_at_its_own_dim(server: str) -> None:
    text = sample_texts(2 * N_CHUNKS)[N_CHUNKS + 3]
    got = httpx.post(f"{server}/search", json={"query": text, "k": 2, "index": "small"}).json()
    assert got["index"] == "small" and got["hits"][0]["id"] == "b-3#0"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b'{"query": "x", "k": ', 400, "not valid JSON"),
        (b'["query"]', 422, "valid dictionary"),
        (b'{"k": 3}', 422, "query: this field is required"),
        (b'{"query": "   "}', 422, "the query is empty"),
        (b'{"query": "x", "k": 0}', 422, "greater than or equal to 1"),
        (b'{"query": "x", "k": 51}', 422, "above the limit of 50"),
        (b'{"query": "x", "mode": "sparse"}', 422, "mode"),
        (b'{"query": "x", "colour": "red"}', 422, "colour"),
        (b'{"query": "x", "index": "nope"}', 404, "unknown index version 'nope' (versions: small, v1)"),
        ('{"query": "%s"}' % ("z" * 2001), 413, "the limit is 2,000"),
    ],
)
def test_bad_search_requests(server: str, body, status: int, fragment: str) -> None:
    response = httpx.post(f"{server}/search", content=body, headers={"content-type": "application/json"})
    assert fragment in error_of(response, status)["message"]


def test_http_level_errors_are_json(server: str) -> None:
    assert "no such endpoint" in error_of(httpx.get(f"{server}/nope"), 404)["message"]
    error_of(httpx.get(f"{server}/search"), 405)
    # Over the body limit: 6 bytes x --max-batch x --max-chars + 64 KiB.
    huge = {"input": ["x" * 2000] * 4, "model": "live", "pad": "y" * 200_000}
    assert error_of(httpx.post(f"{server}/v1/embeddings", json=huge), 413)["type"] == "request_too_large"


def test_api_key_guards_everything_but_health(store_dir: Path) -> None:  # noqa: F811
    with serving(store_dir, api_key="k1") as url:
        missing = httpx.post(f"{url}/search", json={"query": "x"})
        assert "missing API key" in error_of(missing, 401)["message"]
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = httpx.post(f"{url}/search", json={"query": "x"}, headers={"Authorization": "Bearer k2"})
        assert error_of(wrong, 401)["code"] == "invalid_api_key"
        right = httpx.post(f"{url}/search", json={"query": "x"}, headers={"Authorization": "Bearer k1"})
        assert right.status_code == 200
        assert httpx.get(f"{url}/health").status_code == 200


def test_query_encoding_loads_with_the_configured_backend(store_dir: Path, monkeypatch) -> None:  # noqa: F811
    """``--inference`` travels in the ServeConfig, not in process state: the environment does not override it."""
    from embedtune.encoding import inference_of
    from embedtune.serving import ServeConfig, create_app

    monkeypatch.setenv("EMBEDTUNE_INFERENCE", "onnx-int8")
    app = create_app(ServeConfig(store=str(store_dir), inference="torch-bf16"))
    assert inference_of(app.state.serving.live.current.model) == "torch-bf16"


def test_a_chunked_body_over_the_limit_is_refused_while_read(server: str) -> None:
    def chunks():
        yield b'{"query": "'
        for _ in range(200):
            yield b"y" * 1000
        yield b'"}'

    response = httpx.post(f"{server}/search", content=chunks(), headers={"content-type": "application/json"})
    assert "request body is larger than" in error_of(response, 413)["message"]


def test_server_failures_are_json_without_tracebacks(store_dir: Path) -> None:  # noqa: F811
    from embedtune.errors import EmbedtuneError
    from embedtune.serving import BackgroundServer, ServeConfig, create_app

    app = create_app(ServeConfig(store=str(store_dir)))
    runtime = app.state.serving.live.current

    def store_down(*args, **kwargs):
        raise EmbedtuneError("the Milvus server at http://x:19530 is unreachable")

    def bug(*args, **kwargs):
        raise ZeroDivisionError("secret internals")

    with BackgroundServer(app) as server:
        runtime.search = store_down
        error = error_of(httpx.post(f"{server.url}/search", json={"query": "x"}), 503)
        assert "unreachable" in error["message"]
        runtime.search = bug
        error = error_of(httpx.post(f"{server.url}/search", json={"query": "x"}), 500)
        assert error["type"] == "server_error" and "secret" not in error["message"]
