"""Helpers for the index tests: a small chunked workspace, queries with judgments, a second model (no tests here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import sample_texts

from embedtune.workspace import write_jsonl

N_DOCS = 60  # two chunks each: 120 chunks


def chunk_rows(n_docs: int = N_DOCS) -> list[dict]:
    """Two chunks per sample abstract (its halves); the first chunk of doc 0 also stands in for doc ``dup``."""
    rows = []
    for i, text in enumerate(sample_texts(n_docs)):
        half = len(text) // 2
        for j, part in enumerate((text[:half], text[half:])):
            rows.append({
                "id": f"d{i}#{j}", "doc_id": f"d{i}", "text": part, "source": "test",
                "start_char": j * half, "end_char": j * half + len(part), "n_tokens": 0,
            })
    rows[0]["duplicate_doc_ids"] = ["dup"]
    return rows


def make_workspace(root: Path, n_docs: int = N_DOCS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_jsonl(root / "chunks.jsonl", chunk_rows(n_docs))
    return root


def write_queries(root: Path, n: int = 20) -> tuple[Path, Path]:
    """BEIR ``queries.jsonl`` (query i = the start of doc i) and ``qrels.tsv`` (query i -> doc i)."""
    texts = sample_texts(n)
    queries, qrels = root / "queries.jsonl", root / "qrels.tsv"
    write_jsonl(queries, ({"_id": f"q{i}", "text": t[:80]} for i, t in enumerate(texts)))
    qrels.write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(n)), encoding="utf-8")
    return queries, qrels


def copy_model(src: Path, dst: Path) -> Path:
    """The same weights under another content hash (an extra file; the model card would not do): "another model"
    to the index."""
    shutil.copytree(src, dst)
    (dst / "retrained.txt").write_text("retrained\n", encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("index-ws"))
