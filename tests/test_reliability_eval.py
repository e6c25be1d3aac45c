"""Issue 20, D9 (eval part): judgments and queries left out of an eval are counted and said when loading."""

from __future__ import annotations

from pathlib import Path

from test_evaluation_beir import make_beir

from embedtune.evaluation.beir import load_beir

QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\tgone\t1\nq3\td3\t0\nq9\td2\t1\n"


def test_a_shrunken_eval_is_counted_and_printed(tmp_path: Path, capsys):
    data = load_beir(make_beir(tmp_path, QRELS), "test")
    assert data.evaluable_queries == {"q1": "purring"}
    assert data.dropped == {
        "judgments with an unknown document": 1,
        "judged queries missing from queries.jsonl": 1,
        "queries whose judged documents are all missing": 1,
        "queries with no relevant document": 1,
    }
    err = capsys.readouterr().err
    assert "only 1 of the 4 judged queries of split 'test' can be scored (1 have no text, 1 lost every judged " \
           "document, 1 judge nothing relevant)" in err
    assert "dropped 1 of 4 judgments whose corpus-id is not in corpus.jsonl" in err
    assert "1 judged queries missing from queries.jsonl" in err


def test_callers_that_print_warnings_themselves_can_silence_them(tmp_path: Path, capsys):
    data = load_beir(make_beir(tmp_path, QRELS), "test", warn=False)
    assert len(data.warnings) == 3 and capsys.readouterr().err == ""


def test_a_clean_split_prints_nothing(tmp_path: Path, capsys):
    data = load_beir(make_beir(tmp_path), "test")
    assert data.warnings == [] and capsys.readouterr().err == ""
