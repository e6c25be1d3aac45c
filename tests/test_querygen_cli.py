"""``embedtune generate``: offline run, dry run, side-by-side sample, and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest

from test_querygen_openai import FakeChat, make_workspace


@pytest.fixture
def chat():
    server = FakeChat()
    yield server
    server.close()


def test_offline_signals_only_writes_queries_and_skips_when_current(cli, tmp_path):
    ws = make_workspace(tmp_path / "ws", 40)
    code, out, err = cli("generate", "-w", ws, "--backend", "none", "--filter-model", "none")
    assert code == 0, err
    assert "offline/keyphrase" in out and "offline/title" in out and "kept" in out
    rows = [json.loads(line) for line in (ws / "queries.jsonl").read_text().splitlines()]
    assert {r["style"] for r in rows} == {"title", "inverse_cloze", "keyphrase"}
    assert all(r["backend"] == "offline" and r["chunk_id"].startswith("c") for r in rows)
    report = json.loads((ws / "querygen_report.json").read_text())
    assert report["llm"] is None and sum(report["kept"].values()) == len(rows)
    assert (ws / "querygen_rejected.jsonl").exists()

    code, out, err = cli("generate", "-w", ws, "--backend", "none", "--filter-model", "none")
    assert code == 0 and "generate is current, skipping" in err


def test_a_moved_workspace_with_eval_queries_stays_current(cli, tmp_path):
    import shutil

    ws = make_workspace(tmp_path / "ws", 40)
    (ws / "eval.jsonl").write_text('{"_id": "e1", "text": "an eval query nobody wrote"}\n')
    args = ["--backend", "none", "--filter-model", "none", "--eval-queries"]
    assert cli("generate", "-w", ws, *args, ws / "eval.jsonl")[0] == 0
    moved = shutil.move(ws, tmp_path / "moved")
    code, out, err = cli("generate", "-w", moved, *args, f"{moved}/eval.jsonl")
    assert code == 0 and "generate is current, skipping" in err


def test_dry_run_prints_cost_and_calls_nothing(cli, tmp_path, chat):
    ws = make_workspace(tmp_path / "ws", 10)
    code, out, err = cli("generate", "-w", ws, "--backend", "openai", "--base-url", chat.url, "--model", "gpt-x",
                         "--per-chunk", "3", "--price-in", "0.15", "--price-out", "0.6", "--dry-run")
    assert code == 0, err
    assert "10 calls for 30 queries, 0 cached, 10 to run" in out and "$0.00" in out and "tokens" in out
    assert chat.hits == 0 and not (ws / "queries.jsonl").exists()


def test_sample_shows_chunks_beside_queries_and_its_calls_are_reused(cli, tmp_path, chat):
    ws = make_workspace(tmp_path / "ws", 10)
    common = ["-w", ws, "--backend", "openai", "--base-url", chat.url, "--model", "gpt-x", "--filter-model", "none"]
    code, out, err = cli("generate", *common, "--sample", "3")
    assert code == 0, err
    assert "What is known about" in out and "✓" in out and "openai/question" in out and "offline/title" in out
    assert chat.hits == 3 and not (ws / "queries.jsonl").exists()
    code, out, err = cli("generate", *common, "--max-chunks", "5")
    assert code == 0, err
    assert chat.hits == 5  # the three sampled chunks came from the cache
    assert "3 cached" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "chunks.jsonl: no chunks yet; run `embedtune ingest"),
        (["--examples", "{ws}/missing.txt"], "missing.txt: queries file not found"),
        (["--prompt-dir", "{ws}/nope"], "nope: prompt folder not found"),
        (["--styles", "question,riddle"], "invalid generate option styles: unknown style 'riddle'"),
        (["--backend", "gpt"], "invalid generate option backend"),
        (["--backend", "openai", "--model", "m"], "the openai backend needs a base_url"),
        (["--backend", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"], "cannot reach the endpoint"),
        (["--backend", "local", "--model", "all-MiniLM-L6-v2"], "is an embedding model, not a text generator"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, extra, message):
    ws = tmp_path / "ws"
    ws.mkdir()
    if not message.startswith("chunks.jsonl"):
        make_workspace(ws, 3)
    args = [a.format(ws=ws) for a in extra]
    code, out, err = cli("generate", "-w", ws, "--filter-model", "none", *args)
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2  # the error (plus at most a status line before it)


def test_bad_api_key_is_one_line(cli, tmp_path, chat, monkeypatch):
    ws = make_workspace(tmp_path / "ws", 3)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-top-secret")
    chat.always = "401"
    code, out, err = cli("generate", "-w", ws, "--backend", "openai", "--model", "m", "--base-url", chat.url)
    assert code == 2 and "HTTP 401" in err and "$OPENAI_API_KEY" in err and "sk-top-secret" not in err + out
