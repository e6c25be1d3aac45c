"""The real tokenizer (all-MiniLM-L6-v2, 256 tokens) on real corpora: plausible chunks, limit never exceeded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from embedtune.corpus import IngestConfig, ingest, load_chunks
from embedtune.samples import scifact_sample

pytestmark = pytest.mark.integration


def check(corpus: Path, ws: Path, minilm_dir: Path, n_docs: int, recount: bool) -> None:
    t0 = time.perf_counter()
    report = ingest([corpus], ws, IngestConfig(model=str(minilm_dir)))
    seconds = time.perf_counter() - t0
    chunks = load_chunks(ws)
    assert report.documents == n_docs and not report.files_skipped
    assert (report.max_tokens, report.chunk_tokens, report.overlap_tokens) == (256, 222, 33)
    assert 1.5 * n_docs < len(chunks) < 2.5 * n_docs  # abstracts of ~300 tokens: about two chunks each
    assert len({c.doc_id for c in chunks}) == n_docs
    assert max(c.n_tokens for c in chunks) <= 256
    if recount:  # independently, as transformers (and so the model) tokenizes
        hf = AutoTokenizer.from_pretrained(str(minilm_dir))
        assert [len(ids) for ids in hf([c.text for c in chunks])["input_ids"]] == [c.n_tokens for c in chunks]
    assert seconds < 60


def test_bundled_scifact_sample(tmp_path: Path, minilm_dir: Path):
    check(scifact_sample(), tmp_path / "ws", minilm_dir, 1500, recount=True)


def test_full_scifact(tmp_path: Path, minilm_dir: Path, shared_dataset):
    check(shared_dataset("scifact"), tmp_path / "ws", minilm_dir, 5183, recount=False)
