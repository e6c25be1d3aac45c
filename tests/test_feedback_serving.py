"""The server's exploration and A/B modes, through the running app: swaps, sticky arms, teams, logged feedback."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from test_serving_support import serving, store_dir  # noqa: F401  (fixture)

from embedtune.errors import EmbedtuneError
from embedtune.feedback import read_log


def search(url: str, **body) -> dict:
    response = httpx.post(f"{url}/search", json={"query": "cell biology", "k": 5, **body})
    response.raise_for_status()
    return response.json()


def post_feedback(url: str, got: dict, clicked: int, **extra) -> None:
    shown = [{"id": h["id"], "position": h["position"]} for h in got["hits"]]
    body = {"query": "cell biology", "results": shown, "clicks": [{"id": shown[clicked]["id"]}],
            "search_id": got["search_id"], **extra}
    httpx.post(f"{url}/feedback", json=body).raise_for_status()


def test_exploration_swaps_an_adjacent_pair_and_logs_it(store_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    log = tmp_path / "fb.jsonl"
    with serving(store_dir, feedback_log=log, explore_rate=1.0, seed=0) as url:
        plain = search(url, index="v1")  # an explicit index is not part of any experiment, but is explored
        assert plain["swap"] is not None
        got = search(url)
        a, b = got["swap"]
        assert b == a + 1 and [h["position"] for h in got["hits"]] == [1, 2, 3, 4, 5]
        post_feedback(url, got, 0)
    with serving(store_dir, explore_rate=0.0) as url:
        assert search(url)["swap"] is None
    record = read_log(log)[0]
    assert record.swap == (a, b) and record.search_id == got["search_id"] and record.index == "v1"


def test_split_is_sticky_per_user_and_logged(store_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    log = tmp_path / "fb.jsonl"
    with serving(store_dir, feedback_log=log, ab=("v1", "small"), ab_split=0.5) as url:
        arms = {}
        for u in range(12):
            got = [search(url, user=f"u{u}") for _ in range(3)]
            assert len({g["arm"] for g in got}) == 1 and got[0]["index"] == got[0]["arm"]
            prefix = "a-" if got[0]["arm"] == "v1" else "b-"
            assert all(h["id"].startswith(prefix) for h in got[0]["hits"])
            arms[u] = got[0]["arm"]
            post_feedback(url, got[0], 1, user=f"u{u}")
        assert set(arms.values()) == {"v1", "small"}
    records = read_log(log)
    assert [r.arm for r in records] == list(arms.values())
    assert all(r.experiment.mode == "split" and r.experiment.arms == ("v1", "small") for r in records)
    assert records[0].user == "u0"


def test_interleaving_tags_teams_and_logs_them(store_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    log = tmp_path / "fb.jsonl"
    with serving(store_dir, feedback_log=log, ab=("v1", "small"), ab_mode="interleave", seed=1) as url:
        got = search(url, k=6)
        teams = [h["arm"] for h in got["hits"]]
        assert sorted(teams) == ["small"] * 3 + ["v1"] * 3
        assert all(h["id"].startswith("a-" if t == "v1" else "b-") for h, t in zip(got["hits"], teams))
        post_feedback(url, got, 0)
    record = read_log(log)[0]
    assert [r.arm for r in record.results] == teams and record.experiment.mode == "interleave"
    line = json.loads(log.read_text().splitlines()[0])
    assert line["results"][0]["arm"] == teams[0]


def test_unknown_ab_version_fails_at_startup(store_dir: Path) -> None:  # noqa: F811
    with pytest.raises(EmbedtuneError, match="unknown index version 'nope'"):
        with serving(store_dir, ab=("v1", "nope")):
            pass
    with pytest.raises(EmbedtuneError, match="explore_rate"):
        with serving(store_dir, explore_rate=2.0):
            pass
