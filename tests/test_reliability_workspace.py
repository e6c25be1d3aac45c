"""Issue 20, D3 and D11: one process per workspace, and no writes through symbolic links inside it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from embedtune.errors import EmbedtuneError
from embedtune.workspace import Workspace, WorkspaceBusy, write_jsonl


def _hold_lock(root: Path) -> subprocess.Popen:
    """Another process holding ``root``'s lock until its stdin closes."""
    code = textwrap.dedent(f"""
        import sys
        from embedtune.workspace import Workspace
        with Workspace({str(root)!r}).lock():
            print("held", flush=True)
            sys.stdin.read()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _produce(ws: Workspace) -> None:
    with ws.stage("produce", {}, {}) as run:
        write_jsonl(run.add_output("rows.jsonl"), [{"i": 1}])


def test_second_process_is_refused_naming_the_holder(tmp_path: Path):
    ws = Workspace(tmp_path / "ws")
    holder = _hold_lock(ws.root)
    try:
        with pytest.raises(WorkspaceBusy) as e:
            _produce(ws)
        message = str(e.value)
        assert f"pid {holder.pid} on {socket.gethostname()} since " in message
        assert str(ws.root) in message and "\n" not in message
        assert ws.stage_record("produce") is None  # refused before writing anything
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    _produce(ws)  # released when the holder exits
    assert ws.stage_record("produce").status == "done"


def test_lock_of_a_killed_process_does_not_block(tmp_path: Path):
    ws = Workspace(tmp_path / "ws")
    holder = _hold_lock(ws.root)
    holder.kill()  # kill -9: no cleanup runs, the .lock file stays
    holder.wait(timeout=30)
    assert (ws.root / ".lock").exists()
    _produce(ws)
    assert ws.stage_record("produce").status == "done"


def test_lock_is_reentrant_within_a_process(tmp_path: Path):
    ws = Workspace(tmp_path / "ws")
    with ws.lock(), Workspace(tmp_path / "ws").lock():
        _produce(ws)  # a stage inside a run that holds the lock
    holder = _hold_lock(ws.root)  # and it is really released afterwards
    holder.stdin.close()
    holder.wait(timeout=30)


def test_cli_refuses_a_busy_workspace_in_one_line(tmp_path: Path, tiny_model_dir: Path, monkeypatch, capsys):
    from embedtune.cli import main

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("A short document about lighthouses and their keepers.")
    ws = tmp_path / "ws"
    Workspace(ws)
    holder = _hold_lock(ws)
    monkeypatch.setattr(sys, "argv", ["embedtune", "ingest", str(tmp_path / "docs"), "-w", str(ws),
                                      "--model", str(tiny_model_dir)])
    try:
        with pytest.raises(SystemExit) as e:
            main()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert f"workspace in use by pid {holder.pid}" in err


@pytest.mark.parametrize("link", [".partial/produce", ".partial"])
def test_scratch_symlink_is_not_followed(tmp_path: Path, link: str):
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = Workspace(tmp_path / "ws")
    (ws.root / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, ws.root / link)
    with ws.stage("produce", {}, {}) as run:
        (run.scratch / "cache.json").write_text("{}")
        assert not run.scratch.is_symlink()
    assert list(outside.iterdir()) == []


def test_output_through_a_symlinked_folder_is_refused(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = Workspace(tmp_path / "ws")
    os.symlink(outside, ws.root / "eval")
    with pytest.raises(EmbedtuneError, match=r"eval: a symbolic link inside the workspace"), \
            ws.stage("produce", {}, {}) as run:
        write_jsonl(run.add_output("eval/queries.jsonl"), [{"i": 1}])
    assert list(outside.iterdir()) == []


def test_ingest_scratch_symlink_receives_nothing(tmp_path: Path, tiny_model_dir: Path):
    from embedtune.corpus import IngestConfig, ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"{i}.txt").write_text(f"Document number {i} talks about tides, harbours and ships.")
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    (ws / ".partial").mkdir(parents=True)
    os.symlink(outside, ws / ".partial" / "ingest")
    ingest([docs], ws, IngestConfig(model=str(tiny_model_dir)))
    assert list(outside.iterdir()) == []
