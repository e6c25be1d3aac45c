"""Each input format, read for real: text, Markdown, HTML, PDF (made here), JSONL and BEIR folders."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from embedtune.corpus import IngestConfig
from embedtune.corpus.decoding import decode
from embedtune.corpus.discover import discover
from embedtune.corpus.document import SourceFile
from embedtune.corpus.loaders import load
from embedtune.corpus.loaders.html import html_to_markdown
from embedtune.corpus.skips import (
    BINARY,
    BROKEN_PDF,
    EMPTY,
    ENCRYPTED_PDF,
    MALFORMED_JSON,
    MISSING_FIELD,
    NO_TEXT,
    NOT_AN_OBJECT,
    NOT_FOUND,
    UNDECODABLE,
    UNSUPPORTED,
    Skipped,
)

CONFIG = IngestConfig()


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A small valid PDF with one text line per input line (Helvetica), written object by object."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    n = len(pages)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(n))}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        ops = "BT /F1 11 Tf 14 TL 72 720 Td " + " ".join(f"({esc(line)}) Tj T*" for line in text.split("\n")) + " ET"
        data = ops.encode("latin-1")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objs.append(f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream")
    if title:
        objs.append(f"<< /Title ({esc(title)}) >>".encode())
    out = b"%PDF-1.4\n"
    offsets = []
    for k, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{k} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    info = f" /Info {len(objs)} 0 R" if title else ""
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def encrypt_pdf(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def load_one(path: Path, config: IngestConfig = CONFIG):
    files, refused = discover([path])
    assert not refused and len(files) == 1
    return load(files[0], config)


def test_text_file(tmp_path: Path):
    (tmp_path / "note.txt").write_text("First paragraph.\r\n\r\nSecond one.", encoding="utf-8")
    loaded = load_one(tmp_path / "note.txt")
    [doc] = loaded.documents
    assert (doc.doc_id, doc.text, doc.title, doc.markdown) == ("note.txt", "First paragraph.\n\nSecond one.", "", False)
    assert loaded.encoding is None


def test_markdown_title_is_first_h1(tmp_path: Path):
    (tmp_path / "guide.md").write_text("Intro line.\n\n# Onboarding guide\n\n## Day one\n\nGet a badge.\n")
    [doc] = load_one(tmp_path / "guide.md").documents
    assert doc.title == "Onboarding guide" and doc.markdown and "## Day one" in doc.text


def test_html_keeps_headings_drops_script_style_nav():
    html = """<html><head><title>VPN setup</title><style>p{color:red}</style></head><body>
    <nav><a href="/">Home</a></nav><script>var secret = 1;</script>
    <h1>Setting up</h1><p>Install the
       client   from the <b>software</b> centre.<br>Then reboot.</p>
    <h3>Troubleshooting</h3><ul><li>Restart it.</li><li>Call us.</li></ul>
    <!-- a comment --><table><tr><td>Port</td><td>443</td></tr></table></body></html>"""
    title, text = html_to_markdown(html)
    assert title == "VPN setup"
    assert text == (
        "# Setting up\n\nInstall the client from the software centre.\nThen reboot.\n\n### Troubleshooting\n\n"
        "- Restart it.\n- Call us.\n\nPort 443"
    )


def test_html_file_without_title_uses_h1_and_without_text_is_skipped(tmp_path: Path):
    (tmp_path / "a.htm").write_text("<h1>Leave policy</h1><p>Ask your manager.</p>")
    [doc] = load_one(tmp_path / "a.htm").documents
    assert doc.title == "Leave policy" and doc.markdown
    (tmp_path / "b.html").write_text("<html><script>only()</script><nav>menu</nav></html>")
    with pytest.raises(Skipped) as e:
        load_one(tmp_path / "b.html")
    assert e.value.kind == NO_TEXT


def test_pdf_one_document_per_page_with_numbers(tmp_path: Path):
    pdf = make_pdf(["Travel policy applies to all staff.\nBook through the portal.", "", "Expenses need receipts."],
                   title="Travel Policy")
    (tmp_path / "policy.pdf").write_bytes(pdf)
    docs = load_one(tmp_path / "policy.pdf").documents
    assert [d.page for d in docs] == [1, 3]  # the blank page 2 gives nothing
    assert docs[0].text == "Travel policy applies to all staff. Book through the portal."
    assert {d.title for d in docs} == {"Travel Policy"} and {d.doc_id for d in docs} == {"policy.pdf"}


def test_pdf_encrypted_broken_and_owner_only(tmp_path: Path):
    pdf = make_pdf(["Confidential salaries."])
    (tmp_path / "locked.pdf").write_bytes(encrypt_pdf(pdf, "secret"))
    (tmp_path / "owner_only.pdf").write_bytes(encrypt_pdf(pdf, ""))  # opens without a password
    (tmp_path / "broken.pdf").write_bytes(pdf[: len(pdf) // 2])
    (tmp_path / "garbage.pdf").write_bytes(b"this is not a pdf at all")
    for name, kind in [("locked.pdf", ENCRYPTED_PDF), ("broken.pdf", BROKEN_PDF), ("garbage.pdf", BROKEN_PDF)]:
        with pytest.raises(Skipped) as e:
            load_one(tmp_path / name)
        assert e.value.kind == kind and str(e.value).startswith(str(tmp_path / name) + ": " + kind)
    assert load_one(tmp_path / "owner_only.pdf").documents[0].text == "Confidential salaries."


def test_jsonl_default_and_custom_fields_with_bad_lines(tmp_path: Path):
    rows = [
        '{"_id": "a1", "title": "Parking", "text": "Level minus two."}',
        '{"id": 7, "text": "Fallback id field."}',
        '{"text": "No id at all."}',
        "{not json",
        "[1, 2]",
        '{"_id": "a4", "body": "wrong field"}',
        '{"_id": "a5", "title": "Only a title", "text": ""}',
        '{"_id": "a6", "title": "", "text": "   "}',
        "",
    ]
    (tmp_path / "docs.jsonl").write_text("\n".join(rows))
    loaded = load_one(tmp_path / "docs.jsonl")
    assert [(d.doc_id, d.title, d.text) for d in loaded.documents] == [
        ("a1", "Parking", "Level minus two."),
        ("7", "", "Fallback id field."),
        ("docs.jsonl:3", "", "No id at all."),
        ("a5", "Only a title", "Only a title"),
    ]
    assert [(p.kind, p.line) for p in loaded.problems] == [(MALFORMED_JSON, 4), (NOT_AN_OBJECT, 5), (MISSING_FIELD, 6)]
    assert str(loaded.problems[0]).startswith(f"{tmp_path / 'docs.jsonl'}:4: malformed JSON")
    assert loaded.empty_records == 1

    (tmp_path / "custom.jsonl").write_text(json.dumps({"key": "k1", "heading": "H", "body": "Custom fields."}) + "\n")
    custom = IngestConfig(text_field="body", title_field="heading", id_field="key")
    [doc] = load_one(tmp_path / "custom.jsonl", custom).documents
    assert (doc.doc_id, doc.title, doc.text) == ("k1", "H", "Custom fields.")


def test_beir_folder_only_its_corpus(tmp_path: Path):
    beir = tmp_path / "data" / "mini"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "title": "T", "text": "Body.", "id": "ignored"}\n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "a query"}\n')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    (beir / "README.md").write_text("# About this dataset\n")
    (tmp_path / "data" / "other.txt").write_text("Another file.")
    (tmp_path / "data" / ".hidden.txt").write_text("Never read.")
    files, refused = discover([tmp_path / "data"])
    assert [(f.kind, f.source) for f in files] == [("beir", "data/mini/corpus.jsonl"), ("text", "data/other.txt")]
    assert not refused
    # BEIR corpora always use _id/title/text, whatever the JSONL options say.
    [doc] = load(files[0], IngestConfig(id_field="id", text_field="x")).documents
    assert (doc.doc_id, doc.title, doc.text) == ("d1", "T", "Body.")


def test_discover_refuses_missing_and_unsupported(tmp_path: Path):
    (tmp_path / "slides.pptx").write_bytes(b"PK")
    (tmp_path / "README").write_text("no extension")
    files, refused = discover([tmp_path, tmp_path / "nope"])
    assert not files
    assert [(s.kind, Path(s.path).name) for s in refused] == [
        (UNSUPPORTED, "README"), (UNSUPPORTED, "slides.pptx"), (NOT_FOUND, "nope"),
    ]


def test_decoding_detects_legacy_encodings_and_refuses_bad_bytes():
    path = Path("f.txt")
    assert decode("naïve café".encode(), path) == ("naïve café", "utf-8")
    assert decode("\ufeffBOM".encode(), path) == ("BOM", "utf-8")
    assert decode("UTF-16 text".encode("utf-16"), path) == ("UTF-16 text", "utf-16")
    russian = "Привет, это обычный русский текст для проверки кодировки. " * 3
    text, encoding = decode(russian.encode("cp1251"), path)
    assert (text, encoding) == (russian, "cp1251")
    for data, kind in [
        (b"", EMPTY), (b" \n\t ", EMPTY), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", BINARY),
        (bytes(range(128, 256)) * 10, UNDECODABLE),
    ]:
        with pytest.raises(Skipped) as e:
            decode(data, path)
        assert e.value.kind == kind


def test_non_utf8_file_reports_its_encoding(tmp_path: Path):
    (tmp_path / "legacy.txt").write_bytes("Добро пожаловать в компанию. Обед в час дня. ".encode("cp1251") * 3)
    loaded = load_one(tmp_path / "legacy.txt")
    assert loaded.encoding == "cp1251" and loaded.documents[0].text.startswith("Добро пожаловать")


def test_source_and_doc_id_are_relative(tmp_path: Path):
    (tmp_path / "corp" / "hr").mkdir(parents=True)
    (tmp_path / "corp" / "hr" / "leave.md").write_text("# Leave\n")
    [f] = discover([tmp_path / "corp"])[0]
    assert f == SourceFile(tmp_path / "corp" / "hr" / "leave.md", "hr/leave.md", "corp/hr/leave.md", "markdown")
    [g] = discover([tmp_path / "corp" / "hr" / "leave.md"])[0]
    assert (g.doc_id, g.source) == ("leave.md", "leave.md")
