"""Serving follows the live alias: promote and rollback from outside take effect without a restart."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import sample_texts
from test_serving_support import N_CHUNKS, build_store, build_version, serving

from embedtune.index import open_store


def wait_for(url: str, index: str, timeout: float = 15.0) -> dict:
    """``/health`` once it reports ``index``."""
    deadline = time.monotonic() + timeout
    while True:
        health = httpx.get(f"{url}/health").json()
        if health["index"] == index or time.monotonic() > deadline:
            return health
        time.sleep(0.05)


@pytest.fixture
def store(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return build_store(tmp_path, tiny_model_dir)


def test_promote_and_rollback_while_serving(store: Path) -> None:
    query = sample_texts(2 * N_CHUNKS)[N_CHUNKS + 5]  # a passage of "small" (ids b-*), absent from v1
    failures: list[str] = []
    done = threading.Event()

    with serving(store, poll_interval=0.1) as url:

        def hammer() -> None:  # searches throughout both switches: none may fail
            with httpx.Client(base_url=url) as http:
                while not done.is_set():
                    r = http.post("/search", json={"query": query, "k": 3})
                    if r.status_code != 200 or r.json()["index"] not in ("v1", "small"):
                        failures.append(r.text)

        worker = threading.Thread(target=hammer)
        worker.start()
        try:
            before = httpx.post(f"{url}/search", json={"query": query, "k": 1}).json()
            assert before["index"] == "v1" and before["hits"][0]["id"].startswith("a-")

            open_store(store).promote("small")  # another process's promote: only the alias file changes
            health = wait_for(url, "small")
            assert (health["index"], health["dim"]) == ("small", 16)
            after = httpx.post(f"{url}/search", json={"query": query, "k": 1}).json()
            assert after["index"] == "small" and after["hits"][0]["id"] == "b-5#0"
            embedded = httpx.post(f"{url}/v1/embeddings", json={"input": "x", "model": "live"}).json()
            assert embedded["model"] == "small"

            assert open_store(store).rollback() == "v1"
            assert wait_for(url, "v1")["dim"] == 32
            again = httpx.post(f"{url}/search", json={"query": query, "k": 1}).json()
            assert again["index"] == "v1" and again["hits"][0]["id"] == before["hits"][0]["id"]
        finally:
            done.set()
            worker.join()
    assert not failures, failures[:3]


def test_a_live_version_that_cannot_load_is_not_served(store: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    moved = tmp_path / "model-copy"
    shutil.copytree(tiny_model_dir, moved)
    build_version(store, "v3", moved, sample_texts(10), "c")
    shutil.rmtree(moved)  # its model is gone: serving v3 would need --model
    with serving(store, poll_interval=0.1) as url:
        open_store(store).promote("v3")
        deadline = time.monotonic() + 15
        while (health := httpx.get(f"{url}/health").json())["live_error"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health["index"] == "v1"  # still serving the old version
        assert "'v3'" in health["live_error"] and "model=FOLDER" in health["live_error"]
        assert httpx.post(f"{url}/search", json={"query": "x"}).status_code == 200


def test_model_moved_is_found_with_model_option(store: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    moved = tmp_path / "model-copy"
    shutil.copytree(tiny_model_dir, moved)
    build_version(store, "v3", moved, sample_texts(10), "c")
    open_store(store).promote("v3")
    relocated = tmp_path / "elsewhere"
    moved.rename(relocated)
    with serving(store, model=str(relocated)) as url:
        assert httpx.get(f"{url}/health").json()["index"] == "v3"


def test_a_pinned_version_ignores_promotions(store: Path) -> None:
    with serving(store, index="v1", poll_interval=0.1) as url:
        open_store(store).promote("small")
        time.sleep(0.5)
        health = httpx.get(f"{url}/health").json()
        assert health["index"] == "v1" and health["follows_live"] is False
