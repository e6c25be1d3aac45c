"""The BEIR line formats: ``queries.jsonl`` (``_id``, ``text``) and a qrels TSV, read and written.

A workspace's eval set (``eval/queries.jsonl``, ``eval/qrels.tsv``) is stored in these formats so any BEIR tool
reads it; :mod:`embedtune.evaluation.beir` reads users' BEIR folders with the same functions. They live here,
below the stages, because :mod:`embedtune.workspace.artifacts` needs them to read and write those files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from embedtune.errors import InputError
from embedtune.workspace.atomic import atomic_write, read_jsonl, write_jsonl

Qrels = dict[str, dict[str, int]]
QRELS_HEADER = "query-id\tcorpus-id\tscore\n"


def load_queries(path: str | Path) -> dict[str, str]:
    """``{query id: text}`` of a ``queries.jsonl``."""
    queries: dict[str, str] = {}
    for line, row in enumerate(read_jsonl(path), 1):
        qid = row.get("_id")
        if qid is None or str(qid) == "":
            raise InputError(path, "query without an _id", line=line)
        queries[str(qid)] = str(row.get("text") or "")
    return queries


def write_queries(path: str | Path, queries: Mapping[str, str]) -> int:
    """Write ``{query id: text}`` as a BEIR ``queries.jsonl``; returns the number of queries."""
    return write_jsonl(path, ({"_id": q, "text": t} for q, t in queries.items()))


def load_qrels(path: str | Path) -> Qrels:
    """``{query id: {doc id: grade}}`` of a qrels TSV (negative grades become 0, i.e. judged non-relevant)."""
    qrels: Qrels = {}
    with open(path, encoding="utf-8") as f:
        for line, raw in enumerate(f, 1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) == 4:  # TREC: qid iteration docid grade
                parts = [parts[0], parts[2], parts[3]]
            if len(parts) != 3:
                raise InputError(path, f"expected 'query-id corpus-id score', got {len(parts)} columns", line=line)
            qid, doc_id, grade = parts
            try:
                value = int(float(grade))
            except ValueError:
                if line == 1:  # the header
                    continue
                raise InputError(path, f"relevance score {grade!r} is not a number", line=line) from None
            qrels.setdefault(qid, {})[doc_id] = max(value, 0)
    return qrels


def write_qrels(path: str | Path, qrels: Mapping[str, Mapping[str, int]]) -> None:
    """Write judgments as a BEIR qrels TSV, with its header line."""
    with atomic_write(path) as f:
        f.write(QRELS_HEADER)
        for qid, judged in qrels.items():
            for doc, score in judged.items():
                f.write(f"{qid}\t{doc}\t{score}\n")
