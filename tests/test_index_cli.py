"""``embedtune index`` through the real entry point: build, shadow, promote, rollback, status, and errors."""

from __future__ import annotations

import json

import pytest
from test_index_support import N_DOCS, make_workspace, workspace, write_queries  # noqa: F401  (fixture)

from embedtune.errors import EmbedtuneError
from embedtune.index import open_store
from embedtune.workspace import write_jsonl


def test_cli_round_trip(cli, tmp_path, tiny_model_dir, workspace):  # noqa: F811
    store, model = tmp_path / "store", str(tiny_model_dir)
    code, out, err = cli("index", "build", "--name", "full", "--store", store, "--model", model,
                         "--workspace", workspace, "--batch-size", "40")
    assert code == 0, err
    assert f"version 'full': {2 * N_DOCS:,} chunks, 32 dims, complete" in out
    code, out, err = cli("index", "build", "--name", "small", "--store", store, "--model", model,
                         "--workspace", workspace, "--dim", "8")
    assert code == 0, err
    assert cli("index", "promote", "full", "--store", store)[1].strip() == "live: 'full'"

    queries, qrels = write_queries(tmp_path)
    html, js = tmp_path / "shadow.html", tmp_path / "shadow.json"
    code, out, err = cli("index", "shadow", "--store", store, "--candidate", "small", "--queries", queries,
                         "--qrels", qrels, "--k", "5", "--html", html, "--json", js)
    assert code == 0, err
    assert "overlap@5" in out and "top-1 changed" in out and "ndcg@10" in out
    report = json.loads(js.read_text())
    assert report["live"]["name"] == "full" and report["n_queries"] == 20 and len(report["queries"]) == 20
    assert "Shadow comparison: small vs full" in html.read_text()

    code, out, _ = cli("index", "promote", "small", "--store", store)
    assert (code, out.strip()) == (0, "live: 'small' (was 'full')")
    code, out, _ = cli("index", "status", "--store", store)
    assert code == 0
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ ")}
    assert "live" in lines["small"] and "live" not in lines["full"] and "8/32" in lines["small"]
    assert "rollback goes to: 'full'" in out and "bytes per vector" in out
    assert "128" in out and "32" in out  # float32 bytes per vector at 32 and 8 dims
    code, out, _ = cli("index", "rollback", "--store", store)
    assert (code, out.strip()) == (0, "live: 'full' (was 'small')")
    assert open_store(store).live_name() == "full"


def test_cli_corpus_ingest_and_milvus(cli, tmp_path, tiny_model_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_jsonl(docs / "corpus.jsonl", ({"_id": f"d{i}", "title": f"Doc {i}", "text": f"Passage number {i} about "
                                         f"topic {i % 3} with enough words to be a chunk."} for i in range(12)))
    store, ws = tmp_path / "store", tmp_path / "ws"
    code, out, err = cli("index", "build", "--name", "v1", "--store", store, "--backend", "milvus",
                         "--model", tiny_model_dir, "--corpus", docs, "--workspace", ws)
    assert code == 0, err
    meta = open_store(store).open("v1").meta
    assert meta.backend == "milvus" and meta.count == 12 and meta.complete
    assert meta.chunking["include_title"] is True and meta.chunking["chunk_tokens"] > 0
    code, out, _ = cli("index", "status", "--store", store)
    assert code == 0 and "(milvus)" in out and "v1" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--name", "v", "--store", "{store}"], "give the chunks to index"),
        (["build", "--name", "v", "--store", "{store}", "--workspace", "{ws}", "--backend", "faiss"],
         "unknown index backend 'faiss'"),
        (["build", "--name", "v", "--store", "{store}", "--workspace", "{ws}", "--model", "{model}", "--dim", "999"],
         "dim=999 is larger than the 32 dimensions"),
        (["build", "--name", "bad-name", "--store", "{store}", "--workspace", "{ws}"], "invalid version name"),
        (["promote", "nope", "--store", "{store}"], "no index store at"),
        (["status", "--store", "{store}"], "no index store at"),
        (["rollback", "--store", "{store}"], "no index store at"),
    ],
)
def test_cli_errors_are_one_line(cli, tmp_path, tiny_model_dir, args, message):
    ws = make_workspace(tmp_path / "ws", 2)
    filled = [a.format(store=tmp_path / "store", ws=ws, model=tiny_model_dir) for a in args]
    code, _, err = cli("index", *filled)
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_refuses_incomplete_unknown_and_mismatched(cli, tmp_path, tiny_model_dir, workspace):  # noqa: F811
    from embedtune.index import IndexMeta

    store = tmp_path / "store"
    st = open_store(store, create=True)
    st.create(IndexMeta("half", "lancedb", str(tiny_model_dir), "x" * 64, 32, True, "c"))
    code, _, err = cli("index", "promote", "half", "--store", store)
    assert code == 2 and "'half' is incomplete" in err
    code, _, err = cli("index", "promote", "nope", "--store", store)
    assert code == 2 and "no index version 'nope'" in err
    queries, _ = write_queries(tmp_path, 2)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = cli("index", "shadow", "--store", store, "--candidate", "half", "--queries", empty)
    assert code == 2 and "no queries" in err
    code, _, err = cli("index", "shadow", "--store", store, "--live", "half", "--candidate", "nope",
                       "--queries", queries)
    assert code == 2 and "no index version 'nope'" in err
    code, _, err = cli("index", "build", "--name", "half", "--store", store, "--model", tiny_model_dir,
                       "--workspace", workspace)
    assert code == 2 and "already exists" in err and "another model" in err


@pytest.mark.integration
def test_minilm_version_shadowed_by_tiny_model(tmp_path, minilm_dir, tiny_model_dir):
    """Two different models side by side: each version is queried with its own model."""
    from embedtune.index import build_index, shadow_compare

    ws = make_workspace(tmp_path / "ws", 20)
    store = tmp_path / "store"
    meta = build_index(store, "minilm", minilm_dir, ws).meta
    assert (meta.dim, meta.count) == (384, 40)
    build_index(store, "tiny", tiny_model_dir, ws)
    open_store(store).promote("minilm")
    queries, qrels = write_queries(tmp_path, 20)
    result = shadow_compare(store, "live", "tiny", queries, qrels=qrels)
    assert result.live.name == "minilm" and result.metrics["ndcg@10"]["live"] > 0.5  # queries quote their documents
    with pytest.raises(EmbedtuneError, match="not comparable"):
        open_store(store).open("minilm").check_model(result.candidate.model_hash)
