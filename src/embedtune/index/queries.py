"""Queries (and optional judgments) for a shadow comparison, read from files."""

from __future__ import annotations

from pathlib import Path

from embedtune.errors import InputError
from embedtune.evaluation.beir import load_qrels, read_queries_file

Qrels = dict[str, dict[str, int]]


def read_queries(path: str | Path) -> dict[str, str]:
    """``{query id: text}`` from a BEIR ``queries.jsonl`` (``_id``, ``text``) or a text file, one query a line.

    Lines of a text file get ids ``"1"``, ``"2"``, ... (their line numbers among the non-blank lines).
    """
    return read_queries_file(path)


def read_qrels(path: str | Path, queries: dict[str, str]) -> Qrels:
    """BEIR qrels (``query-id corpus-id score``, document ids) for the given queries only."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "no such qrels file")
    qrels = {q: docs for q, docs in load_qrels(p).items() if q in queries}
    if not any(g > 0 for docs in qrels.values() for g in docs.values()):
        raise InputError(p, "no relevant judgment for any query of the queries file (do the query ids match?)")
    return qrels
