"""The workspace files' one owner (embedtune.workspace.artifacts): every file round-trips, and no other module
names a workspace file with a string literal."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import embedtune
from embedtune.workspace import Workspace
from embedtune.workspace import artifacts as a
from embedtune.workspace.rows import Chunk, Query, RejectedQuery, TeacherRow, TrainQuery, Triplet

CHUNK = Chunk(id="c1", doc_id="d1", title="T", text="T\nbody é", source="docs/a.md", start_char=0, end_char=6,
              n_tokens=5, title_included=True, duplicate_doc_ids=["d2"])
QUERY = Query(id="q_1", text="what is it", chunk_id="c1", doc_id="d1", style="question", backend="local",
              model="m", prompt_hash="p", related_chunk_ids=["c2"])
TRIPLET = Triplet(query_id="q_1", query="what is it", positive_id="c1", positive="T\nbody é", positive_score=0.812345,
                  negative_ids=["c3"], negatives=["other"], negative_scores=[0.5], relabelled_positive_ids=["c2"],
                  relabelled_positives=["also"], weight=1.0)
TEACHER = TeacherRow(query_id="q_1", query="what is it", positive_id="c1", positive="T\nbody é", negative_ids=["c3"],
                     negatives=["other"], labels=[1.5, -0.25], signals={"cross-encoder": [3.0, -1.0]}, weight=0.5)

# One value per artifact that holds data; the others are folders or files with a format of their own (a model,
# an HTML page, a SQLite or score cache), named here so their writers use the one path.
SAMPLES: dict[str, Any] = {
    "chunks.jsonl": [CHUNK],
    "queries.jsonl": [QUERY],
    "querygen_rejected.jsonl": [RejectedQuery(**QUERY.model_dump(), dropped_by="copy")],
    "train_pairs.jsonl": [TrainQuery("q_1", "what is it", ("c1", "c2"), 0.5, "local:question", None)],
    "dev_pairs.jsonl": [TrainQuery("q_2", "and this", ("c3",), 1.0, "offline:title", "inverse cloze text")],
    "eval/queries.jsonl": {"q_1": "what is it", "q_2": "and this"},
    "eval/qrels.tsv": {"q_1": {"d1": 1, "d2": 1}, "q_2": {"d3": 2}},
    "eval_split_queries.jsonl": {"q_1": "what is it"},
    "train_triplets.jsonl": [TRIPLET],
    "train_teacher.jsonl": [TEACHER],
    **{f.relpath: {"rows": 3, "note": "é", "nested": {"a": [1, 2.5]}} for f in a.ALL if isinstance(f, a.JsonFile)},
}
OPAQUE = {"querygen_cache.sqlite", "mining_report.html", "cache/teacher/scores.jsonl", "train", "train/model",
          "baseline.html", "chunk_baseline.html", "gate", "report.html", "mine"}


def test_every_artifact_is_sampled_or_opaque() -> None:
    names = [f.relpath for f in a.ALL]
    assert len(names) == len(set(names)), "two artifacts share a path"
    assert set(names) == set(SAMPLES) | OPAQUE
    assert all(type(f) is a.Artifact for f in a.ALL if f.relpath in OPAQUE)


@pytest.mark.parametrize("artifact", [f for f in a.ALL if f.relpath in SAMPLES], ids=lambda f: f.relpath)
def test_round_trip(tmp_path: Path, artifact: a.Artifact) -> None:
    ws = Workspace(tmp_path)
    value = SAMPLES[artifact.relpath]
    artifact.write(ws, value)  # type: ignore[attr-defined]
    assert artifact.read(ws) == value  # type: ignore[attr-defined]


def test_rows_keep_the_bytes_the_stages_wrote_before(tmp_path: Path) -> None:
    """Existing workspaces stay current: the same rows give the same lines as the writers before this module."""
    ws = Workspace(tmp_path)
    a.TRAIN_TRIPLETS.write(ws, [TRIPLET])
    a.TRAIN_PAIRS.write(ws, SAMPLES["train_pairs.jsonl"])
    a.EVAL_QRELS.write(ws, {"q_1": {"d1": 1}})
    a.CHUNKS.write(ws, [CHUNK])
    assert a.TRAIN_TRIPLETS.path(ws).read_text(encoding="utf-8") == (
        '{"query_id": "q_1", "query": "what is it", "positive_id": "c1", "positive": "T\\nbody é", '
        '"positive_score": 0.812345, "negative_ids": ["c3"], "negatives": ["other"], "negative_scores": [0.5], '
        '"relabelled_positive_ids": ["c2"], "relabelled_positives": ["also"], "weight": 1.0}\n')
    assert a.TRAIN_PAIRS.path(ws).read_text(encoding="utf-8") == (
        '{"query_id": "q_1", "query": "what is it", "positive_ids": ["c1", "c2"], "weight": 0.5, '
        '"source": "local:question", "positive_text": null}\n')
    assert a.EVAL_QRELS.path(ws).read_text(encoding="utf-8") == "query-id\tcorpus-id\tscore\nq_1\td1\t1\n"
    assert json.loads(a.CHUNKS.path(ws).read_text(encoding="utf-8")) == CHUNK.model_dump(mode="json")


def test_a_model_round_trips_through_a_json_file(tmp_path: Path) -> None:
    class Report(BaseModel):
        rows: int
        reused: bool = False

    ws = Workspace(tmp_path)
    a.MINING_REPORT.write(ws, Report(rows=3))
    assert a.MINING_REPORT.read_model(ws, Report) == Report(rows=3)


def test_writing_in_a_stage_records_the_output(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with ws.stage("s", {}, {}) as run:
        a.CHUNKS.write(run, [CHUNK])
        a.EVAL_QRELS.write(run, {"q": {"d": 1}})
    assert set(ws.stage_record("s").outputs) == {"chunks.jsonl", "eval/qrels.tsv"}


def test_a_missing_file_names_the_command_that_writes_it(tmp_path: Path) -> None:
    with pytest.raises(embedtune.EmbedtuneError, match=r"no training pairs yet; run `embedtune split` \(or"):
        a.TRAIN_PAIRS.read(tmp_path)
    with pytest.raises(embedtune.EmbedtuneError, match=f"run `embedtune ingest PATH --workspace {tmp_path}` first"):
        a.CHUNKS.read(tmp_path)


def test_rounds_are_found_in_number_order(tmp_path: Path) -> None:
    for n in (10, 2, 3):
        a.PIPELINE_ROUNDS.path(tmp_path, n).mkdir()
    (tmp_path / "round-x").mkdir()  # not a round
    assert [p.name for p in a.PIPELINE_ROUNDS.existing(tmp_path)] == ["round-2", "round-3", "round-10"]
    assert a.RETRAIN_ROUNDS.path(tmp_path, 1) == tmp_path / "retrain-1"


def test_a_bad_row_names_file_and_line(tmp_path: Path) -> None:
    a.TRAIN_TRIPLETS.path(tmp_path).write_text('{"query": "q", "positive": "p", "negatives": []}\n{"query": "q"}\n')
    with pytest.raises(embedtune.InputError, match=r"train_triplets.jsonl:2: not a train_triplets.jsonl row"):
        a.TRAIN_TRIPLETS.read(tmp_path)


# --- no workspace file named outside artifacts.py -------------------------------------------------------------

SRC = Path(embedtune.__file__).parent
# Files that still spell a workspace file's name, each with why.
ALLOWED: dict[str, str] = {
    "workspace/artifacts.py": "the one owner",
    "evaluation/beir.py": "a BEIR folder's queries.jsonl, which shares its name with the workspace's",
    "adapter/train.py": "owned by the lead, to move to artifacts",
}


def _names() -> set[str]:
    """Each artifact's path, and its file name when that has a suffix (``model`` or ``train`` alone are words)."""
    out = set()
    for f in a.ALL:
        if "." in f.relpath or "/" in f.relpath:
            out.add(f.relpath)
        if "." in f.name:
            out.add(f.name)
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def literal_uses(source: str) -> list[tuple[int, str]]:
    """``(line, literal)`` of string constants that are a workspace file's name or end in ``/<name>`` (a path
    fragment of an f-string); docstrings and prose (text with spaces) do not count."""
    names = _names()
    tree = ast.parse(source)
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
            if text in names or (" " not in text and any(text.endswith("/" + n) for n in names)):
                hits.append((node.lineno, text))
    return hits


def test_the_literal_finder_sees_a_planted_name() -> None:
    planted = 'x = ws.path("train_triplets.jsonl")\ny = f"{d}/gate/gate.json"\nz = "no train_pairs.jsonl yet"\n'
    assert literal_uses(planted) == [(1, "train_triplets.jsonl"), (2, "/gate/gate.json")]


def test_no_workspace_file_name_outside_artifacts() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel not in ALLOWED:
            found += [f"{rel}:{line}: {text!r}" for line, text in literal_uses(path.read_text(encoding="utf-8"))]
    assert not found, "name these through embedtune.workspace.artifacts:\n" + "\n".join(found)


def test_the_allow_list_is_still_needed() -> None:
    stale = [rel for rel in ALLOWED if not literal_uses((SRC / rel).read_text(encoding="utf-8"))]
    assert not stale, f"no workspace file name left in these, remove them from ALLOWED: {stale}"
