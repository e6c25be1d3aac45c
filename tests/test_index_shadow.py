"""Shadow comparison on both backends: agreement measures, quality with significance, refusals, round trip."""

from __future__ import annotations

import pytest
from test_index_support import (  # noqa: F401  (workspace is a fixture)
    N_DOCS,
    copy_model,
    make_workspace,
    workspace,
    write_queries,
)

from embedtune.errors import EmbedtuneError, InputError
from embedtune.index import LIVE, ShadowResult, build_index, open_store, shadow_compare
from embedtune.index.base import Hit
from embedtune.index.shadow import document_run
from embedtune.index.shadow_render import shadow_html


@pytest.fixture(scope="module", params=["lancedb", "milvus"])
def store(request, tmp_path_factory, tiny_model_dir, workspace):  # noqa: F811
    """``full`` (32 dims, live) and ``small`` (an 8-dim prefix) of the same chunks."""
    root = tmp_path_factory.mktemp(f"shadow-{request.param}") / "s"
    build_index(root, "full", tiny_model_dir, workspace, backend=request.param)
    build_index(root, "small", tiny_model_dir, workspace, dim=8)
    open_store(root).promote("full")
    return root


def test_round_trip_build_shadow_promote_rollback(store, tmp_path):
    queries, qrels = write_queries(tmp_path)
    result = shadow_compare(store, LIVE, "small", queries, qrels=qrels, k=5)
    assert isinstance(result, ShadowResult)
    assert (result.live.name, result.candidate.name, result.n_queries) == ("full", "small", 20)
    assert result.same_chunks
    assert 0.0 <= result.overlap <= 1.0 and 0.0 <= result.jaccard <= result.overlap
    assert result.rank_change >= 0.0 and 0.0 <= result.top1_changed <= 1.0
    assert all(len(q.live) == 5 and len(q.candidate) == 5 for q in result.queries)
    assert set(result.metrics) == {"ndcg@10", "recall@5"}
    comparison = result.comparisons[0]
    assert comparison.system == "small" and comparison.reference == "full" and comparison.n_queries == 20
    assert comparison.delta == pytest.approx(result.metrics["ndcg@10"]["candidate"] - result.metrics["ndcg@10"]["live"])
    html = shadow_html(result).render()
    assert "Queries whose results changed" in html and "ndcg@10" in html
    if result.changed():
        assert result.changed()[0].query in html

    st = open_store(store)
    st.promote("small")
    assert st.live_name() == "small" and st.open(LIVE).count() == 2 * N_DOCS
    assert st.rollback() == "full" and st.live_name() == "full"
    assert st.open(LIVE).ids() == st.open("small").ids()


def test_same_model_and_dim_agree_fully(store, tmp_path, tiny_model_dir, workspace):  # noqa: F811
    queries, _ = write_queries(tmp_path, 5)
    build_index(store, "twin", tiny_model_dir, workspace)
    result = shadow_compare(store, "full", "twin", queries, k=10)
    assert (result.overlap, result.jaccard, result.rank_change, result.top1_changed) == (1.0, 1.0, 0.0, 0.0)
    assert result.changed() == [] and result.comparisons == []


def test_other_chunks_are_flagged(store, tmp_path, tiny_model_dir):
    queries, qrels = write_queries(tmp_path, 10)
    build_index(store, "fewer", tiny_model_dir, make_workspace(tmp_path / "ws", 30))
    result = shadow_compare(store, "full", "fewer", queries, qrels=qrels)
    assert not result.same_chunks and "different chunks" in shadow_html(result).render()


def test_changed_model_is_refused(store, tmp_path, tiny_model_dir, workspace):  # noqa: F811
    queries, _ = write_queries(tmp_path, 3)
    moved = copy_model(tiny_model_dir, tmp_path / "model")
    st = open_store(store)
    build_index(st, "moved", moved, workspace)
    (moved / "retrained.txt").write_text("edited after the build\n")  # any file but the model card
    with pytest.raises(EmbedtuneError, match="changed since index version 'moved' was built"):
        shadow_compare(store, "full", "moved", queries)


def test_bad_inputs(store, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="no queries"):
        shadow_compare(store, LIVE, "small", empty)
    queries, _ = write_queries(tmp_path, 3)
    with pytest.raises(EmbedtuneError, match="no index version 'nope'"):
        shadow_compare(store, LIVE, "nope", queries)
    with pytest.raises(EmbedtuneError, match="same version"):
        shadow_compare(store, LIVE, "full", queries)
    other = tmp_path / "other.tsv"
    other.write_text("x\td0\t1\n")
    with pytest.raises(InputError, match="no relevant judgment"):
        shadow_compare(store, LIVE, "small", queries, qrels=other)


def test_document_run_credits_duplicates_with_best_chunk():
    hits = [[Hit("a#0", 0.9, doc_id="a", duplicate_doc_ids=("b",)), Hit("a#1", 0.95, doc_id="a"),
             Hit("c#0", 0.5, doc_id="c")]]
    assert document_run(["q"], hits, 10) == {"q": {"a": 0.95, "b": 0.9, "c": 0.5}}
