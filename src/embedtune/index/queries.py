"""Judgments for a shadow comparison, read from a file (its queries file is read by ``read_queries_file``)."""

from __future__ import annotations

from pathlib import Path

from embedtune.errors import InputError
from embedtune.evaluation.beir import Qrels, load_qrels


def read_qrels(path: str | Path, queries: dict[str, str]) -> Qrels:
    """BEIR qrels (``query-id corpus-id score``, document ids) for the given queries only."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "no such qrels file")
    qrels = {q: docs for q, docs in load_qrels(p).items() if q in queries}
    if not any(g > 0 for docs in qrels.values() for g in docs.values()):
        raise InputError(p, "no relevant judgment for any query of the queries file (do the query ids match?)")
    return qrels
