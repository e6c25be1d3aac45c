"""``/feedback``: validated records appended to the JSON-lines log, one line per request."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from test_serving_search import error_of
from test_serving_support import serving, store_dir  # noqa: F401  (fixture)

SHOWN = [{"id": "a-1#0", "position": 1}, {"id": "a-2#0", "position": 2}, {"id": "a-3#0", "position": 3}]


@pytest.fixture(scope="module")
def server(store_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    log = tmp_path_factory.mktemp("feedback") / "logs" / "feedback.jsonl"
    with serving(store_dir, feedback_log=log) as url:
        yield url, log


def lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_a_record_is_one_json_line(server) -> None:
    url, log = server
    before = len(lines(log))
    body = {"query": "scurvy", "results": SHOWN, "clicks": [{"id": "a-2#0", "position": 2, "dwell_s": 12.5}],
            "timestamp": "2025-01-31T11:59:58", "arm": "tuned"}
    response = httpx.post(f"{url}/feedback", json=body)
    assert response.status_code == 200 and response.json()["recorded"] is True
    record = lines(log)[before]
    assert record["format"] == 1 and record["index"] == "v1" and record["arm"] == "tuned"
    assert record["query"] == "scurvy" and record["results"] == SHOWN
    assert record["clicks"] == [{"id": "a-2#0", "position": 2, "dwell_s": 12.5}]
    assert record["timestamp"] == "2025-01-31T11:59:58Z"  # no zone given: UTC
    assert record["received_at"].endswith("Z")


def test_defaults_and_a_named_version(server) -> None:
    url, log = server
    httpx.post(f"{url}/feedback", json={"query": "q", "results": [], "index": "small"}).raise_for_status()
    record = lines(log)[-1]
    assert (record["index"], record["arm"], record["clicks"]) == ("small", None, [])
    assert record["timestamp"] == record["received_at"]


def test_concurrent_records_never_interleave(server) -> None:
    url, log = server
    before = len(lines(log))

    def post(i: int) -> int:
        body = {"query": f"query {i} " + "x" * 2000, "results": SHOWN, "clicks": [{"id": "a-1#0"}]}
        return httpx.post(f"{url}/feedback", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(post, range(40))) == {200}
    assert len(lines(log)) == before + 40


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"query": "q", "results": SHOWN, "clicks": [{"id": "zzz"}]}, 422, "not among the results shown"),
        ({"query": "q", "results": SHOWN, "clicks": [{"id": "a-1#0", "position": 2}]}, 422, "shown at 1"),
        ({"query": "q", "results": SHOWN + [{"id": "a-9#0", "position": 1}]}, 422, "share a position"),
        ({"query": "q", "results": SHOWN + [SHOWN[0]]}, 422, "listed twice"),
        ({"query": "q", "results": [{"id": "a", "position": 0}]}, 422, "greater than or equal to 1"),
        ({"query": "q", "results": SHOWN, "clicks": [{"id": "a-1#0", "dwell_s": -1}]}, 422, "dwell_s"),
        ({"query": "", "results": SHOWN}, 422, "the query is empty"),
        ({"query": "q"}, 422, "results: this field is required"),
        ({"query": "q", "results": [], "timestamp": "yesterday"}, 422, "timestamp"),
        ({"query": "q", "results": [], "index": "nope"}, 404, "unknown index version 'nope'"),
    ],
)
def test_invalid_feedback(server, body: dict, status: int, fragment: str) -> None:
    url, _ = server
    assert fragment in error_of(httpx.post(f"{url}/feedback", json=body), status)["message"]


def test_feedback_is_off_without_a_log(store_dir: Path) -> None:  # noqa: F811
    with serving(store_dir) as url:
        response = httpx.post(f"{url}/feedback", json={"query": "q", "results": []})
        assert "feedback_log" in error_of(response, 404)["message"]
