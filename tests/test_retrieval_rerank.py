"""Cross-encoder reranking with a tiny cross-encoder built here (no pretrained one exists offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedtune.errors import EmbedtuneError
from embedtune.retrieval import BM25Retriever, CrossEncoderReranker, Document, RerankRetriever, ranked


@pytest.fixture(scope="module")
def tiny_ce_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny BERT with a fresh one-logit head, saved as a cross-encoder folder."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    ce = CrossEncoder(str(tiny_model_dir), num_labels=1, device="cpu")
    out = tmp_path_factory.mktemp("ce") / "tiny-ce"
    ce.save(str(out))
    return out


DOCS = [Document(f"d{i}", text) for i, text in enumerate([
    "protein folding in the cell", "cancer risk and diet", "vitamin D and bone density",
    "gene expression in tumours", "sleep and memory consolidation", "antibiotic resistance in bacteria",
])]


def test_reranker_reorders_the_head_by_its_scores(tiny_ce_dir):
    reranker = CrossEncoderReranker(tiny_ce_dir)
    assert reranker.label == "tiny-ce"
    texts = {d.id: d.text for d in DOCS}
    first = {"q": {d.id: 1.0 - i / 10 for i, d in enumerate(DOCS)}}  # first stage: d0 > d1 > ... > d5
    out = reranker.rerank({"q": "tumour genes"}, first, texts, top_n=4)
    expected = reranker.model.predict([("tumour genes", texts[f"d{i}"]) for i in range(4)])
    head = [f"d{i}" for i in np.argsort(-expected, kind="stable")]
    assert ranked(out["q"])[:4] == head
    assert out["q"]["d0"] == pytest.approx(float(expected[0]), abs=1e-6)
    assert ranked(out["q"])[4:] == ["d4", "d5"]  # the tail keeps first-stage order, below every reranked doc
    assert max(out["q"]["d4"], out["q"]["d5"]) < min(out["q"][d] for d in head)
    assert len(reranker.rerank({"q": "x"}, first, texts, top_n=4, k=5)["q"]) == 5


def test_rerank_retriever_wraps_any_first_stage(tiny_ce_dir):
    r = RerankRetriever(BM25Retriever(), CrossEncoderReranker(tiny_ce_dir), top_n=3)
    assert r.name == "rerank:tiny-ce>bm25"
    r.index(DOCS)
    run = r.search({"q": "cancer diet vitamin"}, k=10)
    assert set(run["q"]) == {"d1", "d2"}


def test_missing_or_wrong_cross_encoder_says_how_to_get_one(tmp_path, tiny_model_dir):
    with pytest.raises(EmbedtuneError, match="a cross-encoder is the registry.s .ms-marco-MiniLM-L-12-v2.") as e:
        CrossEncoderReranker(tmp_path / "nope")
    assert "\n" not in str(e.value)
    with pytest.raises(EmbedtuneError, match="not found"):
        CrossEncoderReranker("cross-encoder/ms-marco-MiniLM-L6-v2")  # not in the (empty) hub cache
    with pytest.raises(EmbedtuneError, match="is not a cross-encoder"):
        CrossEncoderReranker(tiny_model_dir)  # an embedding model would score at random
