"""Workspace manifest: atomic writes, skip-when-current, failure records, resumable scratch."""

from __future__ import annotations

import json
import shutil

import pytest

from embedtune.errors import InputError
from embedtune.hashing import fingerprint_paths
from embedtune.workspace import Workspace, atomic_write, read_jsonl, write_jsonl


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write("half of the new")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temp file left behind


def test_read_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError, match=r"rows\.jsonl:2: malformed JSON"):
        list(read_jsonl(path))


def _produce(ws: Workspace, inputs: dict[str, str], params: dict) -> None:
    with ws.stage("produce", inputs, params) as run:
        write_jsonl(run.add_output("rows.jsonl"), [{"i": i} for i in range(3)])
        run.record.summary["rows"] = 3


def test_finished_stage_is_current_until_inputs_params_or_outputs_change(tmp_path):
    src = tmp_path / "doc.txt"
    src.write_text("hello")
    ws = Workspace(tmp_path / "ws")
    inputs, params = fingerprint_paths([src]), {"size": 10}
    assert not ws.is_current("produce", inputs, params)
    _produce(ws, inputs, params)

    record = json.loads(ws.manifest_path.read_text())["stages"]["produce"]
    assert record["status"] == "done" and record["summary"] == {"rows": 3}
    assert set(record["outputs"]) == {"rows.jsonl"} and record["seconds"] >= 0
    assert ws.is_current("produce", inputs, params)
    assert not ws.is_current("produce", inputs, {"size": 11})

    src.write_text("changed")
    assert not ws.is_current("produce", fingerprint_paths([src]), params)

    (ws.root / "rows.jsonl").write_text("tampered\n")
    assert not ws.is_current("produce", inputs, params)


def test_failed_stage_is_recorded_and_keeps_its_scratch(tmp_path):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(KeyboardInterrupt), ws.stage("slow", {}, {}) as run:
        (run.scratch / "part-0.jsonl").write_text("{}\n")
        raise KeyboardInterrupt
    record = ws.stage_record("slow")
    assert record is not None and record.status == "failed"
    assert (ws.root / ".partial" / "slow" / "part-0.jsonl").exists()
    assert not ws.is_current("slow", {}, {})

    with ws.stage("slow", {}, {}) as run:
        assert (run.scratch / "part-0.jsonl").exists()  # the rerun finds the partial work
    assert not (ws.root / ".partial").exists()


def test_atomic_outputs_get_normal_file_permissions(tmp_path):
    import os

    write_jsonl(tmp_path / "a.jsonl", [{"x": 1}])
    plain = tmp_path / "b.txt"
    plain.write_text("x")
    assert os.stat(tmp_path / "a.jsonl").st_mode & 0o777 == os.stat(plain).st_mode & 0o777


def test_a_copied_workspace_stays_current(tmp_path):
    ws = Workspace(tmp_path / "ws")
    (ws.root / "chunks.jsonl").write_text("{}\n")
    inputs, params = fingerprint_paths([ws.path("chunks.jsonl")]), {"size": 10}
    _produce(ws, inputs, params)
    copy = Workspace(shutil.copytree(ws.root, tmp_path / "elsewhere"))
    assert copy.is_current("produce", fingerprint_paths([copy.path("chunks.jsonl")]), params)
    (copy.root / "chunks.jsonl").write_text("changed\n")
    assert not copy.is_current("produce", fingerprint_paths([copy.path("chunks.jsonl")]), params)
