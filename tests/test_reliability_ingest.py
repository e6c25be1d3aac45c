"""Issue 20, D4 D5 D8 D9 D10: no single bad entry, workspace, huge document or odd encoding breaks an ingest."""

from __future__ import annotations

import builtins
import io
import json
import os
import sys
from pathlib import Path

import pytest

import embedtune.corpus.chunker as chunker_module
import embedtune.corpus.stage as stage
from embedtune.corpus import IngestConfig, ingest, load_chunks

TEXT = "The harbour master logs every ship that enters the bay, with its cargo and its crew."


@pytest.fixture
def config(tiny_model_dir: Path) -> IngestConfig:
    return IngestConfig(model=str(tiny_model_dir))


def docs_folder(root: Path, n: int = 3) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (root / f"doc{i}.txt").write_text(f"Document {i}. {TEXT} Entry number {i} of the log.")
    return root


def _deny(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Opening ``target`` fails with EACCES, as chmod 000 does for a non-root user (tests may run as root)."""
    real = builtins.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, str | os.PathLike) and Path(file) == target:
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)


# D4: one bad entry never aborts the ingest


def test_symlink_loop_is_skipped_and_counted(tmp_path: Path, config: IngestConfig, capsys):
    docs = docs_folder(tmp_path / "docs")
    os.symlink(docs / "loop.txt", docs / "loop.txt")
    report = ingest([docs], tmp_path / "ws", config)
    assert report.files_ingested == 3 and report.files_skipped == {"unreadable": 1}
    assert f"{docs / 'loop.txt'}: unreadable (Too many levels of symbolic links)" in capsys.readouterr().err


def test_unreadable_file_is_skipped_and_counted(tmp_path: Path, config: IngestConfig, monkeypatch, capsys):
    docs = docs_folder(tmp_path / "docs")
    _deny(monkeypatch, docs / "doc1.txt")
    report = ingest([docs], tmp_path / "ws", config)
    assert report.files_ingested == 2 and report.files_skipped == {"unreadable": 1}
    assert f"{docs / 'doc1.txt'}: unreadable (Permission denied)" in capsys.readouterr().err


def test_non_utf8_file_name_is_skipped_and_counted(tmp_path: Path, config: IngestConfig, capsys):
    docs = docs_folder(tmp_path / "docs")
    with open(os.path.join(os.fsencode(docs), b"caf\xe9.txt"), "w") as f:
        f.write(TEXT)
    report = ingest([docs], tmp_path / "ws", config)
    assert report.files_ingested == 3 and report.files_skipped == {"non-UTF-8 file name": 1}
    assert "caf\\xe9.txt: non-UTF-8 file name" in capsys.readouterr().err
    json.loads((tmp_path / "ws" / "manifest.json").read_text(encoding="utf-8"))  # written, and valid


def test_cli_reports_bad_entries_without_a_traceback(tmp_path: Path, tiny_model_dir: Path, monkeypatch, capsys):
    from embedtune.cli import main

    docs = docs_folder(tmp_path / "docs")
    os.symlink(docs / "loop.md", docs / "loop.md")
    with open(os.path.join(os.fsencode(docs), b"r\xe9sum\xe9.txt"), "w") as f:
        f.write(TEXT)
    monkeypatch.setattr(sys, "argv", ["embedtune", "ingest", str(docs), "-w", str(tmp_path / "ws"),
                                      "--model", str(tiny_model_dir)])
    main()
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "3 ingested of 5" in out.out


# D5: a workspace is never ingested


def test_ingesting_the_current_folder_twice_does_not_read_the_workspace(
    tmp_path: Path, config: IngestConfig, monkeypatch
):
    docs = docs_folder(tmp_path / "project")
    monkeypatch.chdir(docs)
    first = ingest(["."], Path("embedtune-runs") / "default", config)
    again = ingest(["."], Path("embedtune-runs") / "other", config)  # another workspace: a fresh ingest
    assert first.documents == again.documents == 3
    assert {c.doc_id for c in load_chunks(Path("embedtune-runs") / "other")} == {f"doc{i}.txt" for i in range(3)}


def test_folder_holding_a_workspace_manifest_is_skipped(tmp_path: Path, config: IngestConfig, capsys):
    docs = docs_folder(tmp_path / "docs")
    ingest([docs], docs / "runs" / "mine", config)  # a workspace with another name, inside the corpus
    report = ingest([docs], tmp_path / "ws", config)
    assert report.documents == 3 and report.files_skipped == {"embedtune workspace": 1}
    assert f"{docs / 'runs' / 'mine'}: embedtune workspace" in capsys.readouterr().err


# D8: a huge single-line document


def test_long_document_is_split_in_bounded_segments(tmp_path: Path, config: IngestConfig, monkeypatch):
    seen: list[int] = []

    class Recording:
        def __init__(self, splitter):
            self.splitter = splitter

        def chunk_all_indices(self, texts):
            seen.extend(len(t) for t in texts)
            return self.splitter.chunk_all_indices(texts)

    original = chunker_module.Chunker._splitter
    monkeypatch.setattr(chunker_module.Chunker, "_splitter", lambda self, md, cap: Recording(original(self, md, cap)))
    monkeypatch.setattr(chunker_module, "SEGMENT_CHARS", 2000)
    words = " ".join(f"word{i % 97}" for i in range(3000))  # one line, no punctuation, ~20,000 characters
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "line.txt").write_text(words)
    ingest([tmp_path / "docs"], tmp_path / "ws", config)
    assert seen and max(seen) <= 2000
    for c in load_chunks(tmp_path / "ws"):
        assert words[c.start_char : c.end_char] == c.body


def test_segments_cut_at_boundaries_and_cover_the_text():
    from embedtune.corpus.chunker import segments

    text = ("Alpha beta gamma. " * 50 + "\n\n") * 40
    parts = segments(text, 3000)
    assert "".join(p for _, p in parts) == text
    assert all(len(p) <= 3000 for _, p in parts) and all(p.endswith("\n\n") for _, p in parts[:-1])
    assert all(text[start:].startswith(p) for start, p in parts)
    assert [len(p) for _, p in segments("x" * 7000, 3000)] == [3000, 3000, 1000]  # no space: hard cuts


def test_absurd_document_is_capped_with_a_warning(tmp_path: Path, tiny_model_dir: Path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "huge.txt").write_text(" ".join(["lorem"] * 1000))
    report = ingest([tmp_path / "docs"], tmp_path / "ws", IngestConfig(model=str(tiny_model_dir),
                                                                     max_document_chars=1000))
    assert report.truncated == 1
    assert max(c.end_char for c in load_chunks(tmp_path / "ws")) <= 1000
    assert "huge.txt: 5,999 characters in one document; only the first 1,000" in capsys.readouterr().err


def test_big_document_announces_its_chunking(tmp_path: Path, config: IngestConfig, monkeypatch, capsys):
    docs = docs_folder(tmp_path / "docs", 1)
    monkeypatch.setattr(stage, "BIG_DOCUMENT_CHARS", 10)
    ingest([docs], tmp_path / "ws", config)
    assert f"chunking {docs / 'doc0.txt'}: " in capsys.readouterr().err


# D9: silent drops are counted and reported


def test_unreadable_subfolder_is_reported(tmp_path: Path, config: IngestConfig, monkeypatch, capsys):
    docs = docs_folder(tmp_path / "docs")
    docs_folder(docs / "secret", 2)
    real = os.scandir

    def scandir(path="."):
        if isinstance(path, str | os.PathLike) and Path(path) == docs / "secret":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = ingest([docs], tmp_path / "ws", config)
    assert report.files_ingested == 3 and report.files_skipped == {"unreadable": 1}
    assert f"{docs / 'secret'}: unreadable (folder: Permission denied)" in capsys.readouterr().err


def test_duplicate_jsonl_id_with_other_text_is_skipped_and_counted(tmp_path: Path, config: IngestConfig, capsys):
    rows = [{"_id": "a", "text": TEXT}, {"_id": "b", "text": "Lighthouses guide ships at night."},
            {"_id": "a", "text": "A completely different record about bread."}]
    (tmp_path / "kb.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    report = ingest([tmp_path / "kb.jsonl"], tmp_path / "ws", config)
    assert report.documents == 2 and report.records_skipped == {"duplicate id": 1}
    assert "kb.jsonl:3: duplicate id (id 'a' already used at line 1 (different text)" in capsys.readouterr().err
    assert not any("bread" in c.text for c in load_chunks(tmp_path / "ws"))


def test_id_shared_by_two_files_is_reported(tmp_path: Path, config: IngestConfig, capsys):
    for name, text in (("one", TEXT), ("two", "Lighthouses guide ships at night, and keepers tend them.")):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"_id": "a", "text": text}))
    report = ingest([tmp_path / "one.jsonl", tmp_path / "two.jsonl"], tmp_path / "ws", config)
    assert report.records_skipped == {"id shared across files": 1}
    assert "two.jsonl: document id 'a' is also used in one.jsonl" in capsys.readouterr().err


# D10: legacy encodings


def test_short_latin1_text_is_not_read_as_cp1250(tmp_path: Path, config: IngestConfig):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "menu.txt").write_bytes("crème brûlée".encode("latin-1"))
    ingest([tmp_path / "docs"], tmp_path / "ws", config)
    [chunk] = load_chunks(tmp_path / "ws")
    assert chunk.text == "crème brûlée"


def test_encoding_can_be_set(tmp_path: Path, tiny_model_dir: Path, monkeypatch, capsys):
    from embedtune.cli import main

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "menu.txt").write_bytes("kůň a čaj".encode("cp1250"))
    monkeypatch.setattr(sys, "argv", ["embedtune", "ingest", str(tmp_path / "docs"), "-w", str(tmp_path / "ws"),
                                      "--model", str(tiny_model_dir), "--encoding", "cp1250"])
    main()
    [chunk] = load_chunks(tmp_path / "ws")
    assert chunk.text == "kůň a čaj"
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        IngestConfig(encoding="klingon")
