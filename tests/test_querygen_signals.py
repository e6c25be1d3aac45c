"""Offline signals (title, heading, inverse cloze, keyphrase) on real SciFact abstracts."""

from __future__ import annotations

import json

import pytest

from embedtune.corpus.chunk import Chunk
from embedtune.querygen.backends.offline_signals import (
    STOPWORDS,
    heading_queries,
    inverse_cloze_queries,
    keyphrase_queries,
    offline_queries,
    title_queries,
)
from embedtune.querygen.filters import round_trip_ranks
from embedtune.retrieval import BM25Retriever
from embedtune.samples import scifact_sample


def abstracts(n: int) -> list[dict]:
    lines = (scifact_sample() / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(line) for line in lines]


def chunk(doc: dict, **kw) -> Chunk:
    fields = dict(
        id=f"c{doc['_id']}", doc_id=doc["_id"], title=doc["title"], text=f"{doc['title']}\n{doc['text']}",
        source="scifact", start_char=0, end_char=len(doc["text"]), n_tokens=200, title_included=True,
    ) | kw
    return Chunk(**fields)


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    return [chunk(d) for d in abstracts(300)]


def test_title_to_body_of_the_first_chunk(chunks):
    queries = title_queries(chunks)
    assert len(queries) == sum(1 for c in chunks if c.title.strip())
    by_id = {c.id: c for c in chunks}
    for q in queries[:50]:
        c = by_id[q.chunk_id]
        assert q.text == " ".join(c.title.split()) and q.style == "title" and q.backend == "offline"
        assert q.positive_text == c.body.strip() and c.title not in q.positive_text

    doc = abstracts(1)[0]
    first = chunk(doc, id="a", start_char=0)
    second = chunk(doc, id="b", start_char=500)
    named = chunk(doc, id="f", doc_id="other", title="annual_report_2023.pdf", text="annual_report_2023.pdf\nSome body text here.")
    assert [q.chunk_id for q in title_queries([second, first, named])] == ["a"]


def test_heading_to_section_on_markdown_and_plain_text():
    docs = abstracts(3)
    markdown = "\n\n".join(["# Collected abstracts", "## Introduction", docs[0]["text"]]
                           + [f"## {d['title'].rstrip('.')}\n\n{d['text']}" for d in docs[1:]])
    plain = f"Diffusion imaging of newborns\n{docs[0]['text']}"
    md_chunk = Chunk(id="m", doc_id="m", title="Collected abstracts", text=markdown, source="x.md",
                     start_char=0, end_char=len(markdown), n_tokens=500)
    plain_chunk = Chunk(id="p", doc_id="p", text=plain, source="x.txt", start_char=0, end_char=len(plain), n_tokens=300)
    queries = heading_queries([md_chunk, plain_chunk])
    # "Introduction" is generic and the top heading repeats the title: neither becomes a query.
    assert [q.text for q in queries] == [docs[1]["title"].rstrip("."), docs[2]["title"].rstrip("."), "Diffusion imaging of newborns"]
    assert queries[0].positive_text == " ".join(docs[1]["text"].split())
    assert queries[2].positive_text == " ".join(docs[0]["text"].split())
    assert heading_queries([chunk(d) for d in docs]) == []  # abstracts have no headings


def test_inverse_cloze_removes_the_sentence_from_the_positive(chunks):
    queries = inverse_cloze_queries(chunks, seed=0)
    assert len(queries) > 0.9 * len(chunks)
    by_id = {c.id: c for c in chunks}
    for q in queries:
        c = by_id[q.chunk_id]
        assert q.text in " ".join(c.body.split()) and q.text not in q.positive_text
        assert q.positive_text.startswith(c.title + "\n")  # laid out like the chunk text it replaces
        assert 6 <= len(q.text.split()) <= 40
    assert [q.text for q in inverse_cloze_queries(chunks, seed=0)] == [q.text for q in queries]
    assert [q.text for q in inverse_cloze_queries(chunks, seed=1)] != [q.text for q in queries]


def test_keyphrase_queries_are_distinctive_words_of_their_chunk(chunks):
    queries = keyphrase_queries(chunks)
    assert len(queries) == len(chunks)
    by_id = {c.id: c for c in chunks}
    for q in queries:
        words = q.text.lower().split()
        assert 1 <= len(words) <= 7 and not set(words) & STOPWORDS
        assert all(w in by_id[q.chunk_id].text.lower() for w in words)
    ranks = round_trip_ranks(queries, chunks, BM25Retriever(), k=10)
    assert sum(r == 1 for r in ranks) / len(ranks) > 0.8  # specific enough to find their own chunk


def test_offline_queries_runs_signals_in_order(chunks):
    queries = offline_queries(chunks[:20], ["keyphrase", "title"])
    styles = [q.style for q in queries]
    assert styles == sorted(styles, key=["keyphrase", "title"].index) and set(styles) == {"keyphrase", "title"}
    assert len({q.id for q in queries}) == len(queries)
