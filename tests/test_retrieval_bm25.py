"""BM25 on real abstracts: finds the obvious document, agrees with bm25s, honours its options."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
import Stemmer

from embedtune.errors import EmbedtuneError
from embedtune.evaluation import evaluate_run, load_beir
from embedtune.retrieval import BM25Retriever, Document
from embedtune.samples import scifact_sample


@pytest.fixture(scope="module")
def sample():
    return load_beir(scifact_sample(), "test")


@pytest.fixture(scope="module")
def bm25(sample):
    r = BM25Retriever()
    r.index(sample.corpus)
    return r


def test_a_document_title_finds_that_document_first(sample, bm25):
    docs = sample.corpus[:40:4]
    run = bm25.search({d.id: d.title for d in docs}, k=5)
    firsts = [max(run[d.id], key=run[d.id].get) for d in docs]
    assert sum(f == d.id for f, d in zip(firsts, docs)) >= 9


def test_scores_sample_test_split_plausibly(sample, bm25):
    run = bm25.search(sample.evaluable_queries, k=100)
    assert all(len(docs) <= 100 for docs in run.values())
    ndcg = evaluate_run(sample.qrels, run, ["ndcg@10"]).means["ndcg@10"]
    assert 0.6 < ndcg < 0.95  # 1,500-doc slice: easier than full SciFact (0.66)


def test_flat_mode_scores_equal_bm25s_directly(sample):
    docs = sample.corpus[:300]
    r = BM25Retriever(fields="flat", stemmer="english")
    r.index(docs)
    stemmer = Stemmer.Stemmer("english")
    ref = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    ref.index(bm25s.tokenize([d.full_text for d in docs], stopwords="en", stemmer=stemmer, show_progress=False),
              show_progress=False)
    query = "vitamin D deficiency increases the risk of cancer"
    q_tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)[0]
    np.testing.assert_allclose(r.scores(query), ref.get_scores(q_tokens), rtol=1e-5)


def test_multifield_sums_title_and_body_fields():
    docs = [Document("a", "nothing relevant here", title="kinase signalling"),
            Document("b", "kinase kinase signalling pathway", title="unrelated"),
            Document("c", "plain text", title="")]
    r = BM25Retriever()
    r.index(docs)
    run = r.search({"q": "kinase"}, k=3)
    assert set(run["q"]) == {"a", "b"}  # "c" shares no term: left out, not padded with zero scores


def test_options_and_errors():
    docs = [Document("a", "the running dogs"), Document("b", "a cat sat")]
    plain = BM25Retriever(stemmer=None, stopwords=None)
    plain.index(docs)
    assert plain.search({"q": "running"}, 2)["q"].keys() == {"a"}
    assert plain.search({"q": "the"}, 2)["q"].keys() == {"a"}  # stopwords kept
    stemmed = BM25Retriever(stopwords=["cat"])
    stemmed.index(docs)
    assert stemmed.search({"q": "run"}, 2)["q"].keys() == {"a"}  # porter: running -> run
    assert stemmed.search({"q": "cat"}, 2)["q"] == {}  # only stopwords left
    with pytest.raises(EmbedtuneError, match="unknown stemmer"):
        BM25Retriever(stemmer="klingon")
    with pytest.raises(EmbedtuneError, match="fields mode"):
        BM25Retriever(fields="title")  # type: ignore[arg-type]
    with pytest.raises(EmbedtuneError, match="before index"):
        BM25Retriever().search({"q": "x"})
    with pytest.raises(EmbedtuneError, match="empty corpus"):
        BM25Retriever().index([])
