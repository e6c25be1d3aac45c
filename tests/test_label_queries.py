"""`embedtune label`: real queries without judgments get the teacher's label, resumably, in generate's format."""

from __future__ import annotations

import json

import pytest
from embedtune.errors import InputError
from embedtune.querygen.labelled import read_labelled
from embedtune.teach import TeachConfig
from embedtune.teach import signals as signals_mod
from embedtune.teach.label_queries import label_queries, read_unlabelled

from test_mining_cli import write_workspace

FUSION = TeachConfig(teacher="fusion", dense="base")


@pytest.fixture
def ws(tmp_path):
    return write_workspace(tmp_path / "ws", n_docs=30)


def _queries(ws, tmp_path):
    """The title of each abstract, as a user would type it; a repeat and blank lines, as logs have."""
    chunks = [json.loads(line) for line in (ws / "chunks.jsonl").read_text().splitlines()]
    titles = {c["doc_id"]: c["title"] for c in chunks}
    path = tmp_path / "log.txt"
    lines = list(titles.values())
    path.write_text("\n".join([*lines, "", lines[0], ""]) + "\n", encoding="utf-8")
    return path, titles


def test_queries_get_the_teachers_document_and_generate_reads_the_file(ws, tmp_path, tiny_model_dir):
    path, titles = _queries(ws, tmp_path)
    out = tmp_path / "labelled.jsonl"
    result = label_queries(ws, path, out, FUSION, str(tiny_model_dir))
    assert result.read == result.labelled == len(titles)  # the repeated line counted once
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    right = sum(titles[r["doc_id"]] == r["query"] for r in rows)
    assert right >= 0.8 * len(rows)  # BM25 in the teacher finds an abstract from its own title
    parsed = read_labelled(out)
    assert {text for _, text, _ in parsed} == set(titles.values())
    assert all(len(docs) == 1 for _, _, docs in parsed)


def test_a_rerun_scores_nothing_again(ws, tmp_path, tiny_model_dir, monkeypatch):
    path, _ = _queries(ws, tmp_path)
    scored: list[int] = []
    real = signals_mod.score_pairs

    def counting(name, pairs, scorer, cache, *a, **k):
        return real(name, pairs, lambda p: scored.append(len(p)) or scorer(p), cache, *a, **k)

    monkeypatch.setattr("embedtune.teach.reranker.score_pairs", counting)
    label_queries(ws, path, tmp_path / "a.jsonl", FUSION, str(tiny_model_dir))
    assert sum(scored) > 0
    scored.clear()
    label_queries(ws, path, tmp_path / "b.jsonl", FUSION, str(tiny_model_dir))
    assert scored == []  # every teacher score came from the workspace's cache
    labels = [[(r["query"], r["doc_id"]) for r in map(json.loads, (tmp_path / f).read_text().splitlines())]
              for f in ("a.jsonl", "b.jsonl")]
    assert labels[0] == labels[1]


def test_bad_query_files_are_one_line_naming_the_file(tmp_path, ws, tiny_model_dir, cli):
    bad = tmp_path / "log.jsonl"
    bad.write_text('{"query": "fine"}\n{"q": "no query field"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"log.jsonl:2: row without a 'query' text"):
        read_unlabelled(bad)
    ids = read_unlabelled(tmp_path.joinpath("ok.jsonl").write_text('{"query_id": "7", "query": "x y"}\n') and
                          tmp_path / "ok.jsonl")
    assert ids == {"7": "x y"}
    latin = tmp_path / "log.txt"
    latin.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"log.txt: not UTF-8 text"):
        read_unlabelled(latin)
    code, out, err = cli("label", bad, "--out", tmp_path / "o.jsonl", "--workspace", ws, "--model", tiny_model_dir,
                         "--teacher", "fusion")
    assert code != 0 and "log.jsonl:2: row without a 'query' text" in out + err
    assert "Traceback" not in out + err and not (tmp_path / "o.jsonl").exists()


def test_excluded_documents_are_never_a_candidate(ws, tmp_path, tiny_model_dir):
    from embedtune.teach.label_queries import rank_with_teacher

    _, titles = _queries(ws, tmp_path)
    excluded = set(list(titles)[:10])
    queries = {doc: title for doc, title in titles.items()}
    taught, chunks, _ = rank_with_teacher(ws, queries, FUSION, str(tiny_model_dir), exclude_docs=excluded)
    doc_of = {c.id: c.doc_id for c in chunks}
    assert all(run for run in taught.values())
    assert not {doc_of[c] for run in taught.values() for c in run} & excluded
