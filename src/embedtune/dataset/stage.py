"""The split stage: ``chunks.jsonl`` + ``queries.jsonl`` (+ optional real eval set) -> train / dev / eval files.

Writes, in the workspace:
- ``train_pairs.jsonl`` and ``dev_pairs.jsonl``: ``{query_id, query, positive_ids, weight, source, positive_text}``
- ``eval/queries.jsonl`` (BEIR ``_id``/``text``) and ``eval/qrels.tsv`` (document-level judgments)
- ``split_report.json``
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from embedtune.corpus import load_chunks
from embedtune.dataset.split import SplitConfig, SplitResult, TrainQuery, split_queries
from embedtune.errors import EmbedtuneError, InputError
from embedtune.hashing import fingerprint_paths
from embedtune.workspace import Workspace, read_jsonl, write_json, write_jsonl
from embedtune.workspace.atomic import atomic_write

STAGE = "split"
TRAIN_PAIRS, DEV_PAIRS = "train_pairs.jsonl", "dev_pairs.jsonl"
EVAL_QUERIES, EVAL_QRELS, REPORT = "eval/queries.jsonl", "eval/qrels.tsv", "split_report.json"


def _generated_queries(ws: Workspace) -> list[TrainQuery]:
    path = ws.path("queries.jsonl")
    if not path.exists():
        raise EmbedtuneError(f"{path}: no training queries yet; run `embedtune generate --workspace {ws.root}` first")
    return [
        TrainQuery(
            query_id=row["id"], query=row["text"], positive_ids=(row["chunk_id"], *row.get("related_chunk_ids", ())),
            weight=float(row.get("weight", 1.0)), source=f"{row.get('backend', '')}:{row.get('style', '')}",
            positive_text=row.get("positive_text"),
        )
        for row in read_jsonl(path)
    ]


def _write_qrels(path: Path, qrels: dict[str, dict[str, int]]) -> None:
    with atomic_write(path) as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, judged in qrels.items():
            for doc, score in judged.items():
                f.write(f"{qid}\t{doc}\t{score}\n")


def build_split(
    workspace: Workspace | str | Path,
    config: SplitConfig | None = None,
    eval_queries: dict[str, str] | None = None,
    eval_qrels: dict[str, dict[str, int]] | None = None,
) -> SplitResult | None:
    """Run the split stage (after ``generate``); returns None when it is already current.

    Every document goes to one side, a query follows the documents its positives stand for
    (:attr:`~embedtune.corpus.chunk.Chunk.doc_ids`), and training queries that near-duplicate an eval query are
    dropped. With ``eval_qrels`` (a real eval set) those queries are the eval set.

    Example::

        from embedtune import SplitConfig, load_pairs, split
        split("embedtune-runs/default", SplitConfig(eval_fraction=0.2))
        train = load_pairs("embedtune-runs/default/train_pairs.jsonl")
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    cfg = config or SplitConfig()
    inputs = fingerprint_paths([ws.path("chunks.jsonl"), ws.path("queries.jsonl")])
    params = {"config": cfg.model_dump(), "eval_queries": eval_queries, "eval_qrels": eval_qrels}
    if ws.is_current(STAGE, inputs, params):
        return None
    chunks = load_chunks(ws)
    queries = _generated_queries(ws)
    chunk_docs = {c.id: c.doc_ids for c in chunks}  # main + duplicates, as evaluation credits them
    result = split_queries(queries, chunk_docs, {c.id: c.source for c in chunks}, cfg, eval_queries, eval_qrels)
    if not result.train:
        raise EmbedtuneError(f"{ws.root}: the split left no training queries ({result.report})")
    if not result.eval_queries:
        raise EmbedtuneError(f"{ws.root}: the split left no eval queries; raise --eval-fraction or pass a real eval set")
    with ws.stage(STAGE, inputs, params) as run:
        for name, rows in ((TRAIN_PAIRS, result.train), (DEV_PAIRS, result.dev)):
            write_jsonl(run.add_output(name), ({**asdict(q), "positive_ids": list(q.positive_ids)} for q in rows))
        write_jsonl(run.add_output(EVAL_QUERIES), ({"_id": q, "text": t} for q, t in result.eval_queries.items()))
        _write_qrels(run.add_output(EVAL_QRELS), result.eval_qrels)
        write_json(run.add_output(REPORT), result.report)
        run.record.summary = {k: v for k, v in result.report.items() if isinstance(v, int)}
    return result


def iter_pairs(path: str | Path) -> Iterator[TrainQuery]:
    """Rows of a pairs file (``train_pairs.jsonl`` / ``dev_pairs.jsonl``, or any file of that format), one query each.

    Rows are validated as they are read and not merged: a query id may repeat (some tools write one row per
    pair). Ids are read as strings, ``weight`` as a float (default 1.0); keys other than the fields of
    :class:`TrainQuery` are ignored. A bad row raises :class:`InputError` naming the file and the row's number
    (blank lines not counted).
    """
    for line, row in enumerate(read_jsonl(path), 1):
        qid, text, pos = row.get("query_id"), row.get("query"), row.get("positive_ids")
        if qid is None or str(qid) == "":
            raise InputError(path, "row without a query_id", line=line)
        qid = str(qid)
        if not isinstance(text, str) or not text.strip():
            raise InputError(path, f"query {qid!r} has no text", line=line)
        if not isinstance(pos, list) or not all(isinstance(p, (str, int)) for p in pos):
            raise InputError(path, f"query {qid!r}: positive_ids must be a list of chunk ids", line=line)
        try:
            weight = float(row.get("weight", 1.0))
        except (TypeError, ValueError):
            raise InputError(path, f"query {qid!r}: weight must be a number", line=line) from None
        yield TrainQuery(qid, text, tuple(map(str, pos)), weight, str(row.get("source") or ""),
                         row.get("positive_text"))


def load_pairs(path: str | Path) -> list[TrainQuery]:
    """Rows of ``train_pairs.jsonl`` / ``dev_pairs.jsonl``, in file order (see :func:`iter_pairs`)."""
    return list(iter_pairs(path))
