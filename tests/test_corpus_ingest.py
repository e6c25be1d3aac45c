"""The ingest stage end to end: outputs, determinism, bad inputs, resume, no-op rerun and the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import sample_texts
from test_corpus_loaders import encrypt_pdf, make_pdf

import embedtune.corpus.stage as stage
from embedtune.corpus import IngestConfig, IngestReport, ingest, load_chunks
from embedtune.errors import EmbedtuneError
from embedtune.workspace import Workspace


@pytest.fixture
def config(tiny_model_dir: Path) -> IngestConfig:
    return IngestConfig(model=str(tiny_model_dir))


def write_corpus(root: Path) -> Path:
    """A small organisation folder: every supported format, nested, with multi-chunk documents."""
    texts = sample_texts(12)
    (root / "handbook" / "it").mkdir(parents=True)
    (root / "handbook" / "welcome.txt").write_text("\n\n".join(texts[:3]))
    (root / "handbook" / "it" / "vpn.md").write_text("# VPN\n\n## Install\n\n" + texts[3] + "\n\n## Fix\n\n" + texts[4])
    (root / "handbook" / "it" / "mail.html").write_text(
        f"<html><head><title>Mail</title><script>x()</script></head><body><h1>Mail</h1><p>{texts[5]}</p></body></html>"
    )
    (root / "policy.pdf").write_bytes(make_pdf([texts[6][:300], texts[7][:300]], title="Policy"))
    (root / "records.jsonl").write_text("\n".join(json.dumps({"_id": f"r{i}", "title": "Rec", "text": t})
                                                  for i, t in enumerate(texts[8:])))
    return root


def add_bad_files(root: Path) -> None:
    (root / "bad").mkdir()
    (root / "bad" / "blob.txt").write_bytes(b"\x00\x01\x02binary" * 20)
    (root / "bad" / "latin.txt").write_bytes(bytes(range(128, 256)) * 10)
    (root / "bad" / "empty.md").write_bytes(b"")
    (root / "bad" / "broken.pdf").write_bytes(make_pdf(["Half a file."])[:200])
    (root / "bad" / "locked.pdf").write_bytes(encrypt_pdf(make_pdf(["Secret."]), "pw"))
    (root / "bad" / "lines.jsonl").write_text('{"_id": "ok", "text": "Fine record here."}\n{oops\n')
    (root / "bad" / "deck.pptx").write_bytes(b"PK\x03\x04")


def test_ingest_writes_chunks_and_report(tmp_path: Path, config: IngestConfig):
    corpus = write_corpus(tmp_path / "corpus")
    report = ingest([corpus], tmp_path / "ws", config)
    chunks = load_chunks(tmp_path / "ws")
    assert report.files_seen == report.files_ingested == 5 and report.documents == 8
    assert report.chunks == len(chunks) > report.documents
    assert {c.doc_id for c in chunks} == {"handbook/welcome.txt", "handbook/it/vpn.md", "handbook/it/mail.html",
                                          "policy.pdf", "r0", "r1", "r2", "r3"}
    assert {c.source for c in chunks if c.doc_id == "policy.pdf"} == {"corpus/policy.pdf"}
    assert {c.page for c in chunks if c.doc_id == "policy.pdf"} == {1, 2}
    assert max(c.n_tokens for c in chunks) <= report.max_tokens == 128
    assert report.tokens.max == max(c.n_tokens for c in chunks)
    saved = json.loads((tmp_path / "ws" / "ingest_report.json").read_text())
    assert saved["chunks"] == report.chunks and saved["chunk_tokens"] == 110 and saved["overlap_tokens"] == 16
    assert Workspace(tmp_path / "ws").stage_record("ingest").status == "done"
    assert not (tmp_path / "ws" / ".partial" / "ingest").exists()


def test_two_runs_are_byte_identical(tmp_path: Path, config: IngestConfig):
    corpus = write_corpus(tmp_path / "corpus")
    ingest([corpus], tmp_path / "ws1", config)
    ingest([corpus], tmp_path / "ws2", config)
    assert (tmp_path / "ws1" / "chunks.jsonl").read_bytes() == (tmp_path / "ws2" / "chunks.jsonl").read_bytes()


def test_rerun_is_a_noop_and_a_change_reruns(tmp_path: Path, config: IngestConfig, monkeypatch, capsys):
    corpus = write_corpus(tmp_path / "corpus")
    first = ingest([corpus], tmp_path / "ws", config)
    before = (tmp_path / "ws" / "chunks.jsonl").read_bytes()

    def must_not_run(*args, **kwargs):
        raise AssertionError("a current ingest processed a file")

    monkeypatch.setattr(stage, "process_file", must_not_run)
    again = ingest([corpus], tmp_path / "ws", config)
    assert again.reused and again.chunks == first.chunks
    assert "ingest is current, skipping" in capsys.readouterr().err
    monkeypatch.undo()
    forced = ingest([corpus], tmp_path / "ws", config, force=True)  # force: ingests again though current
    assert not forced.reused and forced.chunks == first.chunks
    no_title = ingest([corpus], tmp_path / "ws", config.model_copy(update={"include_title": False}))
    assert not no_title.reused and (tmp_path / "ws" / "chunks.jsonl").read_bytes() != before


def test_resume_after_interruption(tmp_path: Path, config: IngestConfig, monkeypatch, capsys):
    corpus = write_corpus(tmp_path / "corpus")
    ingest([corpus], tmp_path / "reference", config)
    real = stage.process_file
    seen: list[str] = []

    def interrupted_after_three(file, *args):
        if len(seen) == 3:
            raise KeyboardInterrupt
        seen.append(file.doc_id)
        return real(file, *args)

    monkeypatch.setattr(stage, "process_file", interrupted_after_three)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus], tmp_path / "ws", config)
    assert Workspace(tmp_path / "ws").stage_record("ingest").status == "failed"
    assert not (tmp_path / "ws" / "chunks.jsonl").exists()

    resumed: list[str] = []

    def counting(file, *args):
        resumed.append(file.doc_id)
        return real(file, *args)

    monkeypatch.setattr(stage, "process_file", counting)
    report = ingest([corpus], tmp_path / "ws", config)
    assert "resuming: 3 of 5 files already ingested" in capsys.readouterr().err
    assert len(resumed) == 2 and not set(resumed) & set(seen)
    assert report.files_ingested == 5
    assert (tmp_path / "ws" / "chunks.jsonl").read_bytes() == (tmp_path / "reference" / "chunks.jsonl").read_bytes()


def test_bad_inputs_are_skipped_counted_and_named(tmp_path: Path, config: IngestConfig, capsys):
    corpus = write_corpus(tmp_path / "corpus")
    add_bad_files(corpus)
    report = ingest([corpus, tmp_path / "missing"], tmp_path / "ws", config)
    assert report.files_skipped == {
        "binary file": 1, "broken PDF": 1, "empty file": 1, "encrypted PDF": 1, "not found": 1,
        "undecodable text": 1, "unsupported type": 1,
    }
    assert report.records_skipped == {"malformed JSON": 1}
    assert report.files_ingested == 6 and report.files_seen == 13
    assert "ok" in {c.doc_id for c in load_chunks(tmp_path / "ws")}  # the good line of a bad file is kept
    err = capsys.readouterr().err
    for line in [
        f"{corpus / 'bad' / 'blob.txt'}: binary file",
        f"{corpus / 'bad' / 'lines.jsonl'}:2: malformed JSON",
        f"{corpus / 'bad' / 'locked.pdf'}: encrypted PDF",
        f"{corpus / 'bad' / 'deck.pptx'}: unsupported type (.pptx)",
        f"{tmp_path / 'missing'}: not found",
    ]:
        assert f"warning: {line}" in err
        assert any(m.startswith(line) for m in report.messages)
    assert "Traceback" not in err


def test_duplicates_and_empty_records_are_dropped_and_counted(tmp_path: Path, config: IngestConfig):
    text = sample_texts(1)[0][:400]
    rows = [{"_id": "a", "text": text}, {"_id": "b", "text": text.upper()}, {"_id": "c", "text": text + " Also."},
            {"_id": "d", "text": "   "}]
    (tmp_path / "dups.jsonl").write_text("\n".join(map(json.dumps, rows)))
    report = ingest([tmp_path / "dups.jsonl"], tmp_path / "ws", config.model_copy(update={"include_title": False}))
    assert report.dropped == {"empty": 1, "too short": 0, "exact duplicate": 1, "near duplicate": 1}
    [kept] = load_chunks(tmp_path / "ws")
    assert kept.doc_id == "a" and kept.duplicate_doc_ids == ["b", "c"]


def test_nothing_usable_is_an_error(tmp_path: Path, config: IngestConfig):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_text("")
    with pytest.raises(EmbedtuneError, match=r"nothing usable was ingested .* 1 empty file"):
        ingest([tmp_path / "in"], tmp_path / "ws", config)
    assert IngestReport.load(tmp_path / "ws" / "ingest_report.json").files_skipped == {"empty file": 1}


@pytest.fixture
def cli_main():
    from embedtune.cli import main

    return main


def run_cli(cli_main, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["embedtune", *args])
    try:
        cli_main()
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_exit_codes_and_messages(tmp_path: Path, tiny_model_dir: Path, cli_main, monkeypatch, capsys):
    corpus = write_corpus(tmp_path / "corpus")
    add_bad_files(corpus)
    ws = str(tmp_path / "ws")
    code, out, err = run_cli(cli_main, monkeypatch, capsys, "ingest", str(corpus), "--workspace", ws,
                             "--model", str(tiny_model_dir), "--chunk-tokens", "60", "--overlap-tokens", "10")
    assert code == 0, err
    assert "Ingest" in out and "6 ingested of 12" in out and "tokens/chunk" in out
    assert json.loads((tmp_path / "ws" / "ingest_report.json").read_text())["chunk_tokens"] == 60

    nothing = [str(corpus / "bad" / "blob.txt"), str(tmp_path / "nope")]
    code, out, err = run_cli(cli_main, monkeypatch, capsys, "ingest", *nothing, "--workspace", str(tmp_path / "ws2"),
                             "--model", str(tiny_model_dir))
    assert code == 2
    assert f"warning: {corpus / 'bad' / 'blob.txt'}: binary file" in err
    assert "error: nothing usable was ingested" in err and "Traceback" not in err

    code, _, err = run_cli(cli_main, monkeypatch, capsys, "ingest", str(corpus), "--workspace", ws,
                           "--model", str(tiny_model_dir), "--chunk-tokens", "500")
    assert code == 2 and "does not fit" in err and "Traceback" not in err


def test_cli_custom_jsonl_fields_and_no_title(tmp_path: Path, tiny_model_dir: Path, cli_main, monkeypatch, capsys):
    (tmp_path / "kb.jsonl").write_text(json.dumps({"key": "k1", "name": "Wifi", "body": "Join the staff network."}))
    code, _, err = run_cli(cli_main, monkeypatch, capsys, "ingest", str(tmp_path / "kb.jsonl"), "-w",
                           str(tmp_path / "ws"), "--model", str(tiny_model_dir), "--text-field", "body",
                           "--title-field", "name", "--id-field", "key", "--no-title")
    assert code == 0, err
    [c] = load_chunks(tmp_path / "ws")
    assert (c.doc_id, c.title, c.text, c.title_included) == ("k1", "Wifi", "Join the staff network.", False)
