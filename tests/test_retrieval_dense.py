"""Dense retrieval with the tiny model: exact search, Matryoshka truncation, and the embedding cache."""

from __future__ import annotations

import numpy as np
import pytest

import embedtune.retrieval.dense as dense_mod
import embedtune.retrieval.embedding_cache as cache_mod
from embedtune.errors import EmbedtuneError
from embedtune.evaluation import load_beir
from embedtune.retrieval import DenseRetriever, Document, encode_corpus, exact_search, truncate_dims
from embedtune.samples import scifact_sample


@pytest.fixture(scope="module")
def docs():
    return load_beir(scifact_sample(), "test").corpus[:120]


@pytest.fixture
def count_encodes(monkeypatch):
    """Counts texts sent through the model by the cache module."""
    calls: list[int] = []
    real = cache_mod.encode_texts

    def counting(model, texts, *args, **kwargs):
        calls.append(len(texts))
        return real(model, texts, *args, **kwargs)

    monkeypatch.setattr(cache_mod, "encode_texts", counting)
    monkeypatch.setattr(dense_mod, "encode_texts", counting)
    return calls


def test_exact_search_matches_brute_force_in_small_blocks(monkeypatch):
    rng = np.random.default_rng(0)
    docs_v = truncate_dims(rng.normal(size=(500, 16)).astype(np.float32), 16)
    queries = truncate_dims(rng.normal(size=(37, 16)).astype(np.float32), 16)
    monkeypatch.setattr(dense_mod, "SCORE_BUDGET", 500 * 5)  # 5 queries per block
    idx, scores = exact_search(queries, docs_v, 10)
    full = queries @ docs_v.T
    np.testing.assert_array_equal(idx, np.argsort(-full, axis=1)[:, :10])
    np.testing.assert_allclose(scores, np.sort(full, axis=1)[:, ::-1][:, :10], rtol=1e-6)
    idx_all, _ = exact_search(queries[:2], docs_v[:3], 10)  # k larger than the corpus
    assert idx_all.shape == (2, 3)


def test_matryoshka_truncation_renormalises():
    v = np.array([[3.0, 4.0, 12.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    t = truncate_dims(v, 2)
    np.testing.assert_allclose(t, [[0.6, 0.8], [1.0, 0.0]])
    np.testing.assert_allclose(np.linalg.norm(truncate_dims(v, 3), axis=1), 1.0, rtol=1e-6)
    with pytest.raises(EmbedtuneError, match="out of range"):
        truncate_dims(v, 4)


def test_dense_finds_a_document_by_its_own_text(tiny_model_dir, docs, tmp_path):
    r = DenseRetriever(tiny_model_dir, cache_dir=tmp_path)
    r.index(docs)
    assert r.name == "dense:tiny-model@32" and r.full_dim == 32
    sample = docs[:20]
    run = r.search({d.id: d.full_text for d in sample}, k=5)
    assert all(max(run[d.id], key=run[d.id].get) == d.id for d in sample)
    scores = list(run[sample[0].id].values())
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(1.0, abs=1e-4)


def test_truncated_views_share_one_encoding(tiny_model_dir, docs, tmp_path, count_encodes):
    full = DenseRetriever(tiny_model_dir, cache_dir=tmp_path)
    views = [full.truncated(d) for d in (32, 16, 8)]
    queries = {"q1": "cancer risk", "q2": "protein folding"}
    for v in views:
        v.index(docs)
        run = v.search(queries, k=3)
        assert len(run["q1"]) == 3
    assert count_encodes == [len(docs), 2]  # corpus once, queries once for all three dimensions
    assert [v.name for v in views] == ["dense:tiny-model@32", "dense:tiny-model@16", "dense:tiny-model@8"]
    d16 = views[1]._doc_matrix()
    np.testing.assert_allclose(np.linalg.norm(d16, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(d16, truncate_dims(full.corpus_embeddings.vectors, 16), rtol=1e-6)
    with pytest.raises(EmbedtuneError, match="out of range"):
        full.truncated(64)
    with pytest.raises(EmbedtuneError, match="out of range"):
        DenseRetriever(tiny_model_dir, dim=33, cache=False)


def test_corpus_embeddings_are_cached_by_content(tiny_model_dir, docs, tmp_path, count_encodes):
    first = DenseRetriever(tiny_model_dir, cache_dir=tmp_path)
    first.index(docs)
    assert first.corpus_embeddings.cache_hit is False
    second = DenseRetriever(tiny_model_dir, cache_dir=tmp_path)  # a new process would look the same
    second.index(docs)
    assert second.corpus_embeddings.cache_hit is True
    np.testing.assert_array_equal(first.corpus_embeddings.vectors, second.corpus_embeddings.vectors)
    assert count_encodes == [len(docs)]
    assert len(list(tmp_path.glob("*.npy"))) == 1 and not list(tmp_path.glob("*.tmp"))

    edited = [Document(docs[0].id, docs[0].text + " edited", docs[0].title), *docs[1:]]
    second.index(edited)  # different corpus content: a new entry
    second.model.max_seq_length = 64
    encode_corpus(second.model, docs, tmp_path, model_hash="same-model")  # different max_seq_length/model: new
    assert len(list(tmp_path.glob("*.npy"))) == 3
    uncached = encode_corpus(second.model, docs[:5], tmp_path)  # no model hash: nothing is written
    assert uncached.cache_hit is False and uncached.path is None and len(list(tmp_path.glob("*.npy"))) == 3


def test_unknown_model_is_a_one_line_error():
    with pytest.raises(EmbedtuneError, match="unknown model 'no-such-model'"):
        DenseRetriever("no-such-model")
