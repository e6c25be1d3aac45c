"""The row models of the workspace's JSONL files: one class per kind of line, shared by writer and readers.

They live here, below every stage, so that :mod:`embedtune.workspace.artifacts` can name each file with its row
type and every stage can import both without a cycle (the stage packages re-export their own: ``Chunk`` from
``embedtune.corpus``, ``Query`` from ``embedtune.querygen``, ``TrainQuery`` from ``embedtune.dataset``).
Field order is the order of the keys on disk: changing it changes the bytes a stage writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field


class Chunk(BaseModel):
    """A passage as stored in ``chunks.jsonl``; ``id`` is stable: same document content, same id.

    ``text`` is exactly what gets embedded: with ``title_included`` it is ``"<title>\\n<body>"``.
    ``start_char``/``end_char`` locate the body in the document's extracted text (of ``page`` for PDFs).
    """

    id: str
    doc_id: str
    title: str = ""
    text: str
    source: str
    start_char: int
    end_char: int
    page: int | None = None
    n_tokens: int = Field(description="tokens of `text` as the model sees it, special tokens included")
    title_included: bool = False
    duplicate_doc_ids: list[str] = Field(
        default_factory=list, description="documents whose identical or near-identical chunk was dropped for this one"
    )

    @property
    def doc_ids(self) -> list[str]:
        """Every document this chunk stands for: its own first, then those whose copy ingest dropped for it.

        The one chunk -> documents mapping: the split keeps a chunk out of training when any of these is held
        out, and evaluation credits a hit on it to all of them.
        """
        return [self.doc_id, *self.duplicate_doc_ids]

    @property
    def body(self) -> str:
        """The passage without the title line."""
        return self.text.split("\n", 1)[1] if self.title_included else self.text


class Query(BaseModel):
    """A synthetic query and the chunk it was written for (a line of ``queries.jsonl``).

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

    @property
    def positive_ids(self) -> tuple[str, ...]:
        """The chunks that answer it: its own, then those a multi-hop query also needs."""
        return (self.chunk_id, *self.related_chunk_ids)


class RejectedQuery(Query):
    """A generated query a filter dropped, with the filter's name (a line of ``querygen_rejected.jsonl``)."""

    dropped_by: str


@dataclass(frozen=True)
class TrainQuery:
    """A query with the chunk(s) that answer it, as written to ``train_pairs.jsonl`` / ``dev_pairs.jsonl``."""

    query_id: str
    query: str
    positive_ids: tuple[str, ...]
    weight: float = 1.0
    source: str = ""
    positive_text: str | None = None  # train on this instead of the chunk text (e.g. inverse cloze)


class Triplet(BaseModel):
    """One mined (query, positive) row of ``train_triplets.jsonl``: its hard negatives and their scores.

    ``relabelled_positive_*`` are candidates the cross-encoder judged relevant (``--relabel``): extra positives
    of the query, as RLHN trains on them. Only ``query``, ``positive`` and ``negatives`` are required, so a
    triplets file written by another tool is still read.
    """

    query_id: str = ""
    query: str
    positive_id: str = ""
    positive: str
    positive_score: float | None = None
    negative_ids: list[str] = Field(default_factory=list)
    negatives: list[str]
    negative_scores: list[float] = Field(default_factory=list)
    relabelled_positive_ids: list[str] = Field(default_factory=list)
    relabelled_positives: list[str] = Field(default_factory=list)
    weight: float = 1.0


class TeacherRow(BaseModel):
    """A training row labelled by the teacher (a line of ``train_teacher.jsonl``).

    ``labels`` are the fused teacher scores of ``[positive, *negatives]``; ``signals`` the raw score of each
    signal (cross-encoder, dense, bm25) in the same order, kept for inspection.
    """

    query_id: str = ""
    query: str
    positive_id: str = ""
    positive: str
    negative_ids: list[str] = Field(default_factory=list)
    negatives: list[str]
    labels: list[float]
    signals: dict[str, list[float]] = Field(default_factory=dict)
    weight: float = 1.0
