"""Real labelled queries (a BEIR folder or a pairs JSONL) imported as training queries."""

from __future__ import annotations

import json

import pytest

from embedtune.corpus.chunk import Chunk
from embedtune.dataset import build_split, load_pairs
from embedtune.errors import EmbedtuneError
from embedtune.evaluation.beir import load_qrels
from embedtune.querygen import FilterConfig, GenerateConfig, generate_queries, load_queries
from embedtune.querygen.labelled import labelled_queries
from embedtune.samples import scifact_sample
from embedtune.workspace import write_jsonl


def _chunks(n: int | None = None) -> list[Chunk]:
    rows = [json.loads(line) for line in (scifact_sample() / "corpus.jsonl").read_text().splitlines()[:n]]
    return [
        Chunk(id=f"c{r['_id']}", doc_id=r["_id"], title=r["title"], text=f"{r['title']}\n{r['text']}",
              source="scifact", start_char=0, end_char=len(r["text"]), n_tokens=200, title_included=True)
        for r in rows
    ]


def test_beir_train_qrels_become_queries_with_every_relevant_document_as_a_positive():
    chunks = _chunks()
    queries, missing = labelled_queries(chunks, scifact_sample(), "train")
    qrels = load_qrels(scifact_sample() / "qrels" / "train.tsv")
    corpus = {c.doc_id for c in chunks}
    expected = {q for q, judged in qrels.items() if any(g > 0 and d in corpus for d, g in judged.items())}
    assert {q.id.removeprefix("labelled-") for q in queries} == expected
    multi = [q for q in queries if q.related_chunk_ids]
    assert multi, "SciFact train has queries with several relevant abstracts"
    for q in multi:
        relevant = {d for d, g in qrels[q.id.removeprefix("labelled-")].items() if g > 0}
        assert {c.removeprefix("c") for c in (q.chunk_id, *q.related_chunk_ids)} == relevant & corpus
    assert missing == sum(d not in corpus for q in qrels.values() for d, g in q.items() if g > 0)
    assert {(q.style, q.backend) for q in queries} == {("labelled", "human")}


def test_the_chunk_sharing_the_query_words_is_the_positive_of_a_multi_chunk_document(tmp_path):
    one = Chunk(id="a#0", doc_id="a", text="Bananas grow in tropical climates.", source="x", start_char=0,
                end_char=10, n_tokens=6)
    two = Chunk(id="a#1", doc_id="a", text="Insulin resistance drives type 2 diabetes.", source="x",
                start_char=10, end_char=20, n_tokens=7)
    pairs = tmp_path / "pairs.jsonl"
    write_jsonl(pairs, [{"query": "what causes type 2 diabetes", "doc_id": "a"}, {"query": "unknown", "doc_id": "zz"}])
    queries, missing = labelled_queries([one, two], pairs)
    assert [q.chunk_id for q in queries] == ["a#1"] and missing == 1


def test_a_bad_pairs_row_is_one_line_naming_file_and_line(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "fine", "doc_id": "a"}\n{"query": "no document"}\n')
    with pytest.raises(EmbedtuneError, match=r"pairs\.jsonl.*2.*doc_id"):
        labelled_queries(_chunks(5), pairs)
    with pytest.raises(EmbedtuneError, match="qrels/dev.tsv"):
        labelled_queries(_chunks(5), scifact_sample(), "dev")


def test_generate_keeps_human_queries_unfiltered_and_the_split_trains_on_all_their_positives(tmp_path):
    write_jsonl(tmp_path / "chunks.jsonl", (c.model_dump() for c in _chunks()))
    cfg = GenerateConfig(backend="none", signals=[], labelled=scifact_sample(),
                         filters=FilterConfig(encoder=None))  # lexical checks only: no model needed
    report = generate_queries(tmp_path, cfg)
    kept = load_queries(tmp_path)
    assert report.kept == {"human/labelled": len(kept)} and len(kept) > 100
    build_split(tmp_path)
    pairs = load_pairs(tmp_path / "train_pairs.jsonl") + load_pairs(tmp_path / "dev_pairs.jsonl")
    by_id = {q.id: q for q in kept}
    assert pairs and all(set(p.positive_ids) == {by_id[p.query_id].chunk_id, *by_id[p.query_id].related_chunk_ids}
                         for p in pairs)
