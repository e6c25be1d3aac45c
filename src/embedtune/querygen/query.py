"""The artifact of query generation: one synthetic (query, positive passage) pair, a line of ``queries.jsonl``.

The row model lives with the workspace's other row models (:mod:`embedtune.workspace.rows`); it is re-exported
here with the id rule every generator uses.
"""

from __future__ import annotations

from pathlib import Path

from embedtune.evaluation.beir import read_queries_file
from embedtune.hashing import sha256_text
from embedtune.workspace.rows import Query

__all__ = ["Query", "query_id", "read_query_texts"]


def query_id(chunk_id: str, style: str, backend: str, text: str) -> str:
    """Stable id: the same query for the same chunk from the same source always gets the same id."""
    return "q_" + sha256_text(f"{chunk_id}\0{style}\0{backend}\0{text}")[:16]


def read_query_texts(path: str | Path) -> list[str]:
    """Query texts from a BEIR ``queries.jsonl`` (``text`` field) or a plain file with one query per line."""
    return [" ".join(t.split()) for t in read_queries_file(path, need_ids=False).values()]
