"""What mining reads: a workspace's chunks and training pairs, or a BEIR folder's corpus, queries and qrels.

Either way the result is the same pair: training queries (:class:`TrainQuery`, each with its positive ids) and
the candidate passages (:class:`Document`) they are mined against.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from embedtune.corpus.chunk import chunk_documents
from embedtune.errors import EmbedtuneError, InputError
from embedtune.hashing import sha256_file
from embedtune.retrieval.base import Document
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import CHUNKS, TRAIN_PAIRS, iter_pairs
from embedtune.workspace.rows import TrainQuery


def load_train_pairs(path: str | Path, doc_ids: set[str]) -> tuple[list[TrainQuery], list[str]]:
    """Queries of a ``train_pairs.jsonl``, with positives restricted to ``doc_ids``, and warnings.

    Rows are read (and validated) by :func:`embedtune.dataset.iter_pairs`. Rows sharing a ``query_id`` (one row
    per pair, as some tools write them) are merged into one query with all their positives, the first row's
    ``positive_text`` and the last row's weight. Unknown positive ids are dropped and counted; a query left
    without one is skipped.
    """
    merged: dict[str, TrainQuery] = {}
    for line, q in enumerate(iter_pairs(path), 1):
        old = merged.get(q.query_id)
        if old is not None and old.query != q.query:
            raise InputError(path, f"query_id {q.query_id!r} appears twice with different texts", line=line)
        ids = tuple(dict.fromkeys((*(old.positive_ids if old else ()), *q.positive_ids)))
        merged[q.query_id] = replace(old or q, positive_ids=ids, weight=q.weight)
    if not merged:
        raise EmbedtuneError(
            f"{path}: no training pairs (empty file); run `embedtune split` (or `embedtune run`) first"
        )
    warnings: list[str] = []
    unknown = sum(p not in doc_ids for q in merged.values() for p in q.positive_ids)
    total = sum(len(q.positive_ids) for q in merged.values())
    queries = [replace(q, positive_ids=tuple(p for p in q.positive_ids if p in doc_ids),
                       positive_text=q.positive_text if q.positive_ids[:1] and q.positive_ids[0] in doc_ids else None)
               for q in merged.values()]
    kept = [q for q in queries if q.positive_ids]
    if not kept:
        raise EmbedtuneError(
            f"{path}: none of its {total:,} positive ids is a chunk id in {CHUNKS.name} (were the chunks re-ingested "
            f"after the split? run `embedtune split` again)"
        )
    if unknown:
        warnings.append(f"{path}: dropped {unknown:,} of {total:,} positive ids that are not chunk ids")
    if len(kept) < len(queries):
        warnings.append(f"{path}: skipped {len(queries) - len(kept):,} queries without a known positive chunk")
    return kept, warnings


def beir_queries(dataset: Any) -> list[TrainQuery]:
    """Queries of a loaded BEIR split with their relevant (grade > 0) documents as positives."""
    return [
        TrainQuery(q, dataset.queries[q], tuple(d for d, g in rel.items() if g > 0))
        for q, rel in dataset.qrels.items()
        if any(g > 0 for g in rel.values())
    ]


def input_hashes(ws: Workspace, dataset: Path | None, split: str) -> dict[str, str]:
    """The stage's inputs: the BEIR split's files, or the workspace's chunks and training pairs."""
    if dataset is not None:
        from embedtune.evaluation.beir import split_fingerprint

        return split_fingerprint(dataset, split)
    pairs, chunks = TRAIN_PAIRS.require(ws), CHUNKS.require(ws)
    return {CHUNKS.relpath: sha256_file(chunks), TRAIN_PAIRS.relpath: sha256_file(pairs)}


def load_inputs(
    ws: Workspace, dataset: Path | None, split: str
) -> tuple[list[TrainQuery], list[Document], str, list[str]]:
    """``(queries, candidate passages, source for the report, input warnings)``."""
    if dataset is not None:
        from embedtune.evaluation.beir import load_beir

        data = load_beir(dataset, split, warn=False)
        return beir_queries(data), data.corpus, f"beir:{data.name}/{split}", list(data.warnings)
    docs = chunk_documents(CHUNKS.read(ws))
    if not docs:
        raise EmbedtuneError(f"{CHUNKS.path(ws)}: no chunks (empty file); run `embedtune ingest` again")
    queries, warnings = load_train_pairs(TRAIN_PAIRS.path(ws), {d.id for d in docs})
    return queries, docs, "workspace", warnings
