"""Every query filter on real SciFact text, and the report's per-filter counts."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from embedtune.corpus.chunk import Chunk
from embedtune.querygen import FilterConfig, Query, QuerygenReport, apply_filters
from embedtune.querygen.filters import copy_ratio, is_meta, length_reason, near_duplicate_mask, round_trip_ranks
from embedtune.querygen.query import query_id
from embedtune.retrieval import BM25Retriever
from embedtune.samples import scifact_sample

LEXICAL = FilterConfig(encoder=None)


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    lines = (scifact_sample() / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:200]
    docs = [json.loads(line) for line in lines]
    return [
        Chunk(id=f"c{d['_id']}", doc_id=d["_id"], title=d["title"], text=f"{d['title']}\n{d['text']}",
              source="scifact", start_char=0, end_char=len(d["text"]), n_tokens=200, title_included=True)
        for d in docs
    ]


def q(text: str, chunk: Chunk, backend: str = "local", style: str = "question", **kw) -> Query:
    return Query(id=query_id(chunk.id, style, backend, text), text=text, chunk_id=chunk.id, doc_id=chunk.doc_id,
                 style=style, backend=backend, **kw)


def test_length_meta_and_copy_rules(chunks):
    cfg = FilterConfig()
    assert [length_reason(t, cfg) for t in ["", "  ", "abc", "insulin", "insulin resistance", " ".join(["w"] * 70)]] == [
        "empty", "empty", "too_short", "too_short", None, "too_long"]
    assert is_meta("What is the purpose of this passage?") and is_meta("What did this study find?")
    assert is_meta("What is the answer to this question?") and not is_meta("What is the role of TRP channels?")
    assert not is_meta("How long is the document retention period?")

    c = chunks[1]  # myelodysplasia / MDSC abstract
    sentence = "These clonally distinct MDSC overproduce hematopoietic suppressive cytokines"
    assert copy_ratio(sentence, c.text) == 1.0
    assert copy_ratio("How do MDSC cause ineffective hematopoiesis in myelodysplastic syndromes?", c.text) < 0.5
    assert copy_ratio("two words", c.text) == 0.0


def test_filters_drop_by_first_failing_rule_and_report_counts(chunks):
    c, other = chunks[1], chunks[2]
    good = "How do myeloid-derived suppressor cells cause ineffective hematopoiesis in MDS?"
    candidates = [
        q(good, c),
        q("", c),
        q("What is the purpose of this passage?", c),
        q("These clonally distinct MDSC overproduce hematopoietic suppressive cytokines and function as potent apoptotic effectors", c),
        q("how do myeloid derived suppressor cells cause ineffective hematopoiesis in MDS", c),  # same words
        q("What is the invention and how does it work?", other),  # vague: BM25 cannot find its passage
        q("These clonally distinct MDSC overproduce hematopoietic suppressive cytokines", c,
          backend="offline", style="inverse_cloze", positive_text=c.text),  # extractive on purpose: not a "copy"
    ]
    result = apply_filters(candidates, chunks, LEXICAL)
    reasons = {query.text: reason for query, reason in result.rejected}
    assert [k.text for k in result.kept] == [good, candidates[-1].text]
    assert reasons == {"": "empty", candidates[2].text: "meta", candidates[3].text: "copy",
                       candidates[4].text: "duplicate", candidates[5].text: "round_trip"}
    report = QuerygenReport.count(candidates, result.kept, result.rejected, chunks=len(chunks))
    assert report.candidates == {"local/question": 6, "offline/inverse_cloze": 1}
    assert report.dropped == {"empty": {"local/question": 1}, "meta": {"local/question": 1},
                              "copy": {"local/question": 1}, "duplicate": {"local/question": 1},
                              "round_trip": {"local/question": 1}}
    assert report.kept == {"local/question": 1, "offline/inverse_cloze": 1}


def test_round_trip_checks_against_the_positive_actually_trained_on(chunks):
    c = chunks[3]
    sentence = next(s for s in c.body.split(". ") if len(s.split()) > 8)
    unrelated = chunks[50].body
    own = q(sentence, c, backend="offline", style="inverse_cloze", positive_text=c.text.replace(sentence, ""))
    cut_from_another = q(sentence, c, backend="offline", style="heading", positive_text=unrelated)
    ranks = round_trip_ranks([own, cut_from_another], chunks, BM25Retriever(), k=10)
    assert ranks[0] is not None and ranks[1] is None  # a sentence only finds the chunk it was cut from if it fits


class BagOfWords:
    """A deterministic stand-in encoder: hashed word counts, L2-normalised, so cosine measures word overlap."""

    dim = 512

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode_query(self, texts, **kwargs) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace("?", " ").split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    encode_document = encode_query


def eval_texts(n: int = 50) -> list[str]:
    lines = (scifact_sample() / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(line)["text"] for line in lines]


def test_contamination_with_real_eval_queries(chunks):
    evals = eval_texts()
    c = chunks[0]
    leaked_exact = q(evals[0].upper(), c)
    leaked_words = q(evals[1].rstrip(".") + " too", c)
    clean = q("How does diffusion tensor imaging show white matter development in newborns?", c)
    no_round_trip = LEXICAL.model_copy(update={"round_trip": "none"})
    result = apply_filters([leaked_exact, leaked_words, clean], chunks, no_round_trip, eval_queries=evals)
    assert [k.text for k in result.kept] == [clean.text]
    assert [r for _, r in result.rejected] == ["contamination", "contamination"]
    assert result.contamination[0] == {"query": leaked_exact.text, "eval_query": evals[0], "style": "question"}

    # With an encoder, cosine catches rewordings the word-set test lets through.
    reworded = q(evals[2].rstrip(".") + " in adults and children alike", c)
    cfg = FilterConfig(encoder="bow", round_trip="none", contamination_cosine=0.7)
    result = apply_filters([reworded, clean], chunks, no_round_trip, eval_queries=evals)
    assert [k.text for k in result.kept] == [reworded.text, clean.text]
    result = apply_filters([reworded, clean], chunks, cfg, eval_queries=evals, encoder=BagOfWords())
    assert [k.text for k in result.kept] == [clean.text] and result.rejected[0][1] == "contamination"


def test_near_duplicates_within_and_across_chunks(chunks):
    a, b = chunks[1], chunks[2]
    base = "How do suppressor cells cause ineffective hematopoiesis in MDS?"
    candidates = [
        q(base, a),
        q(base.replace("?", " ?!"), a),  # same words: an exact duplicate
        q("How do suppressor cells cause ineffective hematopoiesis in MDS patients?", a),  # same chunk
        q("Do suppressor cells cause ineffective hematopoiesis in MDS?", b, style="keyword"),  # another chunk
        q("Which gene primes its own reverse transcription?", b),
    ]
    cfg = FilterConfig(encoder="bow", round_trip="none", near_duplicate=0.9)
    result = apply_filters(candidates, chunks, cfg, encoder=BagOfWords())
    assert [r for _, r in result.rejected] == ["duplicate", "near_duplicate", "near_duplicate"]
    assert [k.text for k in result.kept] == [base, candidates[-1].text]

    # The vector-level check, across block boundaries: planted copies are found, distinct vectors kept.
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(2500, 32)).astype(np.float32)
    vecs[2300] = vecs[5] + 0.01  # a copy two blocks later
    vecs[1500] = vecs[1499]  # a copy inside one block
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    assert np.flatnonzero(near_duplicate_mask(vecs, 0.95)).tolist() == [1500, 2300]


@pytest.mark.integration
def test_base_model_catches_paraphrases(chunks, minilm_dir):
    """With all-MiniLM-L6-v2, a paraphrase of a kept query or of an eval query is dropped; a new topic is not."""
    from embedtune.models import load_embedder

    evals = eval_texts()
    a = chunks[1]
    kept = "How do myeloid-derived suppressor cells cause ineffective blood cell production in MDS?"
    candidates = [
        q(kept, a),
        q("In MDS, how do myeloid derived suppressor cells lead to ineffective production of blood cells?", a),
        q(evals[3].replace(".", "") + "?", a),
        q("Which transcript primes its own reverse transcription in rodent genomes?", chunks[2]),
    ]
    cfg = FilterConfig(encoder=str(minilm_dir), round_trip="none", contamination_jaccard=1.01)
    result = apply_filters(candidates, chunks, cfg, eval_queries=evals, encoder=load_embedder(str(minilm_dir)))
    assert {query.text: r for query, r in result.rejected} == {
        candidates[2].text: "contamination", candidates[1].text: "near_duplicate"}


def test_dense_round_trip_uses_the_given_encoder(chunks, tiny_model_dir):
    from embedtune.models import load_embedder

    candidates = [q("How do suppressor cells cause ineffective hematopoiesis in MDS?", chunks[1]),
                  q("Which gene primes its own reverse transcription?", chunks[2])]
    cfg = FilterConfig(encoder=str(tiny_model_dir), round_trip="dense", round_trip_k=200, near_duplicate=None)
    result = apply_filters(candidates, chunks, cfg, encoder=load_embedder(str(tiny_model_dir)))
    assert len(result.kept) == 2  # k covers the whole corpus: the plumbing, not the tiny model's quality
    cfg = cfg.model_copy(update={"round_trip_k": 1})
    result = apply_filters(candidates, chunks, cfg, encoder=load_embedder(str(tiny_model_dir)))
    assert len(result.kept) + len(result.rejected) == 2
    assert {r for _, r in result.rejected} <= {"round_trip"}
