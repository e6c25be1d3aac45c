"""Every file and folder the stages keep in a workspace: its one name, its row model, its reader and writer.

Stages, the pipeline, the feedback loop, the index builder and the CLI name a workspace file only through the
constants here, so a file's name and format are stated once and every reader parses the rows its writer wrote
(``CHUNKS.read(ws)`` gives :class:`Chunk` objects everywhere, never raw dicts)::

    from embedtune.workspace.artifacts import CHUNKS, TRAIN_TRIPLETS

    chunks = CHUNKS.read("embedtune-runs/default")          # list[Chunk]
    with ws.stage("mine", inputs, params) as run:
        TRAIN_TRIPLETS.write(run, rows)                      # declared as the stage's output, written atomically

Writing to a :class:`StageRun` declares the file as an output of the stage (its hash goes into the manifest);
writing to a :class:`Workspace` writes it unrecorded. Formats are byte-compatible with what the stages wrote
before this module existed, so existing workspaces stay current.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from embedtune.errors import EmbedtuneError, InputError
from embedtune.workspace.atomic import read_jsonl_lines, write_json, write_jsonl
from embedtune.workspace.beir_format import Qrels, load_qrels, load_queries, write_qrels, write_queries
from embedtune.workspace.rows import Chunk, Query, RejectedQuery, TeacherRow, TrainQuery, Triplet
from embedtune.workspace.workspace import StageRun, Workspace

Row = TypeVar("Row")
Model = TypeVar("Model", bound=BaseModel)
Place = Workspace | str | Path  # where to read from: a workspace or its folder
Target = Workspace | StageRun  # where to write: a StageRun also records the file as the stage's output


def _root(where: Place | StageRun) -> Path:
    if isinstance(where, StageRun):
        return where.workspace.root
    return where.root if isinstance(where, Workspace) else Path(where)


@dataclass(frozen=True)
class Artifact:
    """A file or folder at ``relpath`` in a workspace. ``made_by`` names the command that writes it, quoted
    (``{root}`` stands for the workspace folder), for the error when it is missing."""

    relpath: str
    what: str
    made_by: str

    @property
    def name(self) -> str:
        """The file name, without the folders of ``relpath``."""
        return Path(self.relpath).name

    def path(self, where: Place | StageRun) -> Path:
        return _root(where) / self.relpath

    def exists(self, where: Place | StageRun) -> bool:
        return self.path(where).exists()

    def require(self, where: Place | StageRun) -> Path:
        """The path, or EmbedtuneError saying which command writes it when it is not there yet."""
        path = self.path(where)
        if not path.exists():
            raise self.missing(path)
        return path

    def missing(self, path: Path) -> EmbedtuneError:
        """The error for ``path`` (this file, in some folder) not being there."""
        root = path.parents[len(Path(self.relpath).parts) - 1]
        return EmbedtuneError(f"{path}: no {self.what} yet; run {self.made_by.format(root=root)} first")

    def target(self, where: Target) -> Path:
        """The path to write: declared as an output of a running stage, or (in a workspace) checked for links."""
        if isinstance(where, StageRun):
            return where.add_output(self.relpath)
        return where.inside(self.relpath)


@dataclass(frozen=True)
class RowsFile(Artifact, Generic[Row]):
    """A JSONL file of ``Row`` objects: ``parse`` turns a line's object into one, ``dump`` turns one into the
    object written. A row that does not parse raises InputError naming the file and line."""

    parse: Callable[[dict[str, Any]], Row]
    dump: Callable[[Row], dict[str, Any]]

    def iter(self, where: Place | StageRun) -> Iterator[Row]:
        """The rows in file order, validated as they are read."""
        return self.iter_path(self.require(where))

    def iter_path(self, path: str | Path) -> Iterator[Row]:
        """The rows of a file in this format anywhere (e.g. one a user wrote)."""
        path = Path(path)
        if not path.exists():
            raise self.missing(path)
        for line, obj in read_jsonl_lines(path):
            try:
                yield self.parse(obj)
            except ValidationError as e:
                raise InputError(path, f"not a {self.name} row ({_reason(e)})", line=line) from None
            except (KeyError, TypeError, ValueError) as e:
                raise InputError(path, str(e), line=line) from None

    def read(self, where: Place | StageRun) -> list[Row]:
        return list(self.iter(where))

    def write(self, where: Target, rows: Iterable[Row]) -> int:
        """Write ``rows`` atomically; returns how many."""
        return write_jsonl(self.target(where), (self.dump(r) for r in rows))


def _reason(e: Exception) -> str:
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        return f"{'.'.join(map(str, err['loc'])) or 'row'}: {err['msg']}"
    return str(e)


@dataclass(frozen=True)
class JsonFile(Artifact):
    """One JSON document (a report, a record); read as plain data or as a pydantic model."""

    def read(self, where: Place | StageRun) -> Any:
        return json.loads(self.require(where).read_text(encoding="utf-8"))

    def read_model(self, where: Place | StageRun, model: type[Model]) -> Model:
        return model.model_validate_json(self.require(where).read_text(encoding="utf-8"))

    def write(self, where: Target, data: BaseModel | Mapping[str, Any] | list[Any]) -> Path:
        path = self.target(where)
        write_json(path, data.model_dump(mode="json") if isinstance(data, BaseModel) else data)
        return path


@dataclass(frozen=True)
class QueriesFile(Artifact):
    """Queries in BEIR ``queries.jsonl`` form: ``{query id: text}``."""

    def read(self, where: Place | StageRun) -> dict[str, str]:
        return load_queries(self.require(where))

    def write(self, where: Target, queries: Mapping[str, str]) -> Path:
        path = self.target(where)
        write_queries(path, queries)
        return path


@dataclass(frozen=True)
class QrelsFile(Artifact):
    """Judgments in BEIR qrels TSV form: ``{query id: {doc id: grade}}``."""

    def read(self, where: Place | StageRun) -> Qrels:
        return load_qrels(self.require(where))

    def write(self, where: Target, qrels: Mapping[str, Mapping[str, int]]) -> Path:
        path = self.target(where)
        write_qrels(path, qrels)
        return path


@dataclass(frozen=True)
class Rounds:
    """Numbered sub-workspaces ``<prefix><n>/`` in a workspace: later rounds of a run, retraining rounds. Each is a
    workspace of its own (the same files), so a round never invalidates an earlier one's outputs."""

    prefix: str

    def path(self, where: Place | StageRun, n: int) -> Path:
        return _root(where) / f"{self.prefix}{n}"

    def existing(self, where: Place | StageRun) -> list[Path]:
        """The rounds' folders that exist, by round number."""
        found = [p for p in _root(where).glob(f"{self.prefix}*") if p.name.removeprefix(self.prefix).isdigit()]
        return sorted(found, key=lambda p: int(p.name.removeprefix(self.prefix)))


def _model_rows(model: type[Model]) -> tuple[Callable[[dict[str, Any]], Model], Callable[[Model], dict[str, Any]]]:
    """Parse and dump for a pydantic row model (its fields are JSON types, so Python mode is the JSON)."""
    return model.model_validate, lambda row: row.model_dump()


def parse_train_query(row: Mapping[str, Any]) -> TrainQuery:
    """A pairs row as :class:`TrainQuery` (see :func:`iter_pairs`); ValueError saying what is wrong."""
    qid, text, pos = row.get("query_id"), row.get("query"), row.get("positive_ids")
    if qid is None or str(qid) == "":
        raise ValueError("row without a query_id")
    qid = str(qid)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"query {qid!r} has no text")
    if not isinstance(pos, list) or not all(isinstance(p, (str, int)) for p in pos):
        raise ValueError(f"query {qid!r}: positive_ids must be a list of chunk ids")
    try:
        weight = float(row.get("weight", 1.0))
    except (TypeError, ValueError):
        raise ValueError(f"query {qid!r}: weight must be a number") from None
    return TrainQuery(qid, text, tuple(map(str, pos)), weight, str(row.get("source") or ""), row.get("positive_text"))


def dump_train_query(q: TrainQuery) -> dict[str, Any]:
    return {**asdict(q), "positive_ids": list(q.positive_ids)}


def iter_pairs(path: str | Path) -> Iterator[TrainQuery]:
    """Rows of a pairs file (``train_pairs.jsonl`` / ``dev_pairs.jsonl``, or any file of that format), one query each.

    Rows are validated as they are read and not merged: a query id may repeat (some tools write one row per
    pair). Ids are read as strings, ``weight`` as a float (default 1.0); keys other than the fields of
    :class:`TrainQuery` are ignored. A bad row raises :class:`InputError` naming the file and line.
    """
    return TRAIN_PAIRS.iter_path(path)


def load_pairs(path: str | Path) -> list[TrainQuery]:
    """Rows of ``train_pairs.jsonl`` / ``dev_pairs.jsonl``, in file order (see :func:`iter_pairs`)."""
    return list(iter_pairs(path))


# ingest
CHUNKS: RowsFile[Chunk] = RowsFile("chunks.jsonl", "chunks", "`embedtune ingest PATH --workspace {root}`",
                                   *_model_rows(Chunk))
INGEST_REPORT = JsonFile("ingest_report.json", "ingest report", "`embedtune ingest PATH --workspace {root}`")
# generate
QUERIES: RowsFile[Query] = RowsFile("queries.jsonl", "synthetic queries", "`embedtune generate --workspace {root}`",
                                    *_model_rows(Query))
REJECTED_QUERIES: RowsFile[RejectedQuery] = RowsFile(
    "querygen_rejected.jsonl", "rejected queries", "`embedtune generate --workspace {root}`", *_model_rows(RejectedQuery))
QUERYGEN_REPORT = JsonFile("querygen_report.json", "query generation report", "`embedtune generate --workspace {root}`")
QUERYGEN_CACHE = Artifact("querygen_cache.sqlite", "LLM call cache", "`embedtune generate --workspace {root}`")
# split
_SPLIT = "`embedtune split` (or `embedtune run`)"
TRAIN_PAIRS: RowsFile[TrainQuery] = RowsFile("train_pairs.jsonl", "training pairs", _SPLIT, parse_train_query, dump_train_query)
DEV_PAIRS: RowsFile[TrainQuery] = RowsFile("dev_pairs.jsonl", "dev pairs", _SPLIT, parse_train_query, dump_train_query)
EVAL_QUERIES = QueriesFile("eval/queries.jsonl", "eval queries", _SPLIT)
EVAL_QRELS = QrelsFile("eval/qrels.tsv", "eval judgments", _SPLIT)
SPLIT_REPORT = JsonFile("split_report.json", "split report", _SPLIT)
# mine
TRAIN_TRIPLETS: RowsFile[Triplet] = RowsFile("train_triplets.jsonl", "mined triplets", "`embedtune mine`",
                                             *_model_rows(Triplet))
MINING_REPORT = JsonFile("mining_report.json", "mining report", "`embedtune mine`")
MINING_REPORT_HTML = Artifact("mining_report.html", "mining report page", "`embedtune mine`")
# teach
TRAIN_TEACHER: RowsFile[TeacherRow] = RowsFile("train_teacher.jsonl", "teacher labels", "`embedtune teach`",
                                               *_model_rows(TeacherRow))
TEACH_REPORT = JsonFile("teach_report.json", "teach report", "`embedtune teach`")
TEACHER_SCORES = Artifact("cache/teacher/scores.jsonl", "teacher score cache", "`embedtune teach`")
# train
TRAIN_DIR = Artifact("train", "training folder", "`embedtune train`")
TRAINED_MODEL = Artifact("train/model", "trained model", "`embedtune train`")
# baseline, gate, evaluate (``embedtune run``)
BASELINE = JsonFile("baseline.json", "baseline", "`embedtune baseline`")
BASELINE_HTML = Artifact("baseline.html", "baseline page", "`embedtune baseline`")
# `embedtune run`'s own baseline: the workspace's chunks scored per document (MaxP) on the eval split; apart from
# `embedtune baseline`'s (BEIR documents), so neither overwrites the other.
CHUNK_BASELINE = JsonFile("chunk_baseline.json", "chunk-level baseline", "`embedtune run`")
CHUNK_BASELINE_HTML = Artifact("chunk_baseline.html", "chunk-level baseline page", "`embedtune run`")
EVAL_SPLIT_QUERIES = QueriesFile("eval_split_queries.jsonl", "eval split queries", "`embedtune run`")
GATE_DIR = Artifact("gate", "gate folder", "`embedtune run`")
GATE_RESULT = JsonFile("gate/gate.json", "gate verdict", "`embedtune run`")  # written by embedtune.gate.run_gate
EVAL_REPORT = JsonFile("eval_report.json", "eval report", "`embedtune run`")
REPORT_HTML = Artifact("report.html", "report page", "`embedtune run`")
TIMINGS = JsonFile("timings.json", "stage timings", "`embedtune run`")
# feedback
RETRAIN_HISTORY = JsonFile("retrain_history.json", "retrain history", "`embedtune retrain`")
RETRAIN_MINING = Artifact("mine", "retraining round's mining workspace", "`embedtune retrain`")
# sub-workspaces
PIPELINE_ROUNDS = Rounds("round-")  # round n >= 2 of `embedtune run`: shares the chunks and the split
RETRAIN_ROUNDS = Rounds("retrain-")  # `embedtune retrain`

ALL: tuple[Artifact, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Artifact))
"""Every workspace file and folder named here, in the order above."""
