"""BEIR folder loading: the happy path, and every malformed input as one clear InputError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedtune.errors import InputError
from embedtune.evaluation.beir import load_beir
from embedtune.samples import scifact_sample

CORPUS = [{"_id": "d1", "title": "Cats", "text": "cats purr"}, {"_id": "d2", "title": "", "text": "dogs bark"},
          {"_id": "d3", "title": "Fish", "text": "fish swim"}]
QUERIES = [{"_id": "q1", "text": "purring"}, {"_id": "q2", "text": "barking"}, {"_id": "q3", "text": "swimming"}]


def make_beir(root: Path, qrels: str = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n", split: str = "test",
              corpus=CORPUS, queries=QUERIES) -> Path:
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (root / "qrels" / f"{split}.tsv").write_text(qrels)
    return root


def test_loads_bundled_sample():
    data = load_beir(scifact_sample(), "test")
    assert len(data.corpus) == 1500 and len(data.queries) == 300
    assert sum(len(d) for d in data.qrels.values()) == 339
    assert data.warnings == [] and data.no_relevant == []
    assert data.corpus[0].title and data.corpus[0].full_text.startswith(data.corpus[0].title)


def test_only_the_split_queries_are_kept_and_trec_format_accepted(tmp_path):
    data = load_beir(make_beir(tmp_path, "q1 0 d1 1\nq3 0 d3 0\nq3 0 d1 -1\n"), "test")
    assert data.queries == {"q1": "purring", "q3": "swimming"}
    assert data.qrels == {"q1": {"d1": 1}, "q3": {"d3": 0, "d1": 0}}  # negative grades: judged non-relevant
    assert data.no_relevant == ["q3"] and data.evaluable_queries == {"q1": "purring"}


def test_dangling_judgments_are_dropped_with_a_count(tmp_path):
    qrels = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\tgone\t1\nq2\tgone2\t1\nq9\td3\t1\n"
    data = load_beir(make_beir(tmp_path, qrels), "test")
    assert data.qrels == {"q1": {"d1": 1}, "q2": {}}
    assert data.no_relevant == ["q2"]  # its only judgment dangled: counted, not silently dropped
    assert any("dropped 2 of 4 judgments" in w for w in data.warnings)
    assert any("1 judged queries missing from queries.jsonl" in w for w in data.warnings)


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda p: (p / "corpus.jsonl").unlink(), r"corpus\.jsonl: missing"),
        (lambda p: (p / "queries.jsonl").unlink(), r"queries\.jsonl: missing"),
        (lambda p: (p / "qrels" / "test.tsv").rename(p / "qrels" / "dev.tsv"),
         r"no qrels for split 'test' \(splits here: dev\)"),
        (lambda p: (p / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n"), "has no judgments"),
        (lambda p: (p / "qrels" / "test.tsv").write_text("q1\tx\t1\nq2\ty\t1\n"), "wrong corpus"),
        (lambda p: (p / "qrels" / "test.tsv").write_text("z1\td1\t1\n"), "wrong queries file"),
        (lambda p: (p / "qrels" / "test.tsv").write_text("q1\td1\t0\n"), "no query with a relevant document"),
        (lambda p: (p / "qrels" / "test.tsv").write_text("h\th\th\nq1\td1\tyes\n"),
         r"test\.tsv:2: relevance score 'yes'"),
        (lambda p: (p / "qrels" / "test.tsv").write_text("q1\td1\n"), "expected 'query-id corpus-id score'"),
        (lambda p: (p / "corpus.jsonl").write_text('{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n'),
         r"corpus\.jsonl:2: duplicate document _id 'd1'"),
        (lambda p: (p / "corpus.jsonl").write_text('{"_id": "d1"}\n{oops\n'), r"corpus\.jsonl:2: malformed JSON"),
        (lambda p: (p / "corpus.jsonl").write_text(""), "the corpus is empty"),
    ],
)
def test_bad_folders_raise_one_line_input_errors(tmp_path, setup, match):
    root = make_beir(tmp_path)
    setup(root)
    with pytest.raises(InputError, match=match) as e:
        load_beir(root, "test")
    assert "\n" not in str(e.value)


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="no such dataset folder"):
        load_beir(tmp_path / "nope")
