"""The artifact of query generation: one synthetic (query, positive passage) pair, a line of ``queries.jsonl``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from embedtune.evaluation.beir import read_queries_file
from embedtune.hashing import sha256_text


class Query(BaseModel):
    """A synthetic query and the chunk it was written for.

    ``style`` says which prompt style or offline signal produced it and ``backend`` which kind of generator
    (``openai``, ``local`` or ``offline``), so training and reports can weigh or drop each source separately.
    """

    id: str
    text: str
    chunk_id: str
    doc_id: str
    style: str
    backend: str
    model: str | None = None
    prompt_hash: str | None = None
    positive_text: str | None = Field(
        default=None,
        description="The passage to train on when it is not the chunk's text: an inverse-cloze passage with the "
        "query sentence removed, a section without its heading, a body without its title.",
    )
    related_chunk_ids: list[str] = Field(
        default_factory=list, description="Other chunks a multi-hop query needs besides chunk_id."
    )


def query_id(chunk_id: str, style: str, backend: str, text: str) -> str:
    """Stable id: the same query for the same chunk from the same source always gets the same id."""
    return "q_" + sha256_text(f"{chunk_id}\0{style}\0{backend}\0{text}")[:16]


def read_query_texts(path: str | Path) -> list[str]:
    """Query texts from a BEIR ``queries.jsonl`` (``text`` field) or a plain file with one query per line."""
    return [" ".join(t.split()) for t in read_queries_file(path, need_ids=False).values()]
