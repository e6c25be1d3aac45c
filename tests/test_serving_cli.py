"""``embedtune serve``: startup errors are one line, and a good store is handed to uvicorn."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_serving_support import store_dir  # noqa: F401  (fixture)


@pytest.fixture
def no_uvicorn(monkeypatch) -> dict:
    """Capture what ``uvicorn.run`` would serve instead of serving it."""
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(app=app, **kwargs))
    return seen


def test_serve_hands_the_app_to_uvicorn(cli, store_dir: Path, no_uvicorn: dict, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("ET_KEY", "abc")
    code, out, err = cli("serve", "--store", store_dir, "--port", "9123", "--api-key-env", "ET_KEY",
                         "--max-batch", "16")
    assert code == 0, out + err
    assert "serving index version 'v1' (following the live alias" in out and "API key required" in out
    assert no_uvicorn["port"] == 9123 and no_uvicorn["host"] == "127.0.0.1"
    config = no_uvicorn["app"].state.serving.config
    assert (config.api_key, config.max_batch, config.index) == ("abc", 16, "live")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--index", "nope"], "unknown index version 'nope'"),
        (["--api-key-env", "ET_SURELY_UNSET"], "ET_SURELY_UNSET: that environment variable is not set"),
        (["--concurrency", "0"], "concurrency must be at least 1"),
        (["--backend", "milvus"], "is a lancedb store, not milvus"),
    ],
)
def test_startup_errors(cli, store_dir: Path, no_uvicorn: dict, args: list[str], fragment: str) -> None:  # noqa: F811
    code, out, err = cli("serve", "--store", store_dir, *args)
    assert code == 2 and fragment in out + err and "Traceback" not in out + err
    assert not no_uvicorn


def test_no_store(cli, tmp_path: Path, no_uvicorn: dict) -> None:
    code, out, err = cli("serve", "--store", tmp_path / "missing")
    assert code == 2 and "no index store" in out + err
