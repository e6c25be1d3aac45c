"""A look at generation before paying for it: candidate queries and filter verdicts for a few chunks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedtune.querygen.backends import QueryBackend
from embedtune.querygen.config import GenerateConfig, make_backend
from embedtune.querygen.filters import apply_filters
from embedtune.querygen.jobs import llm_sample
from embedtune.querygen.query import Query, read_query_texts
from embedtune.querygen.stage import candidate_queries, workspace_chunks
from embedtune.retrieval.base import Retriever
from embedtune.retrieval.runner import Runner
from embedtune.workspace import Workspace
from embedtune.workspace.rows import Chunk


@dataclass
class PreviewRow:
    """One sampled chunk with its candidate queries and what the filters said about each."""

    chunk: Chunk
    queries: list[tuple[Query, str]]


def preview_queries(
    workspace: Workspace | str | Path,
    config: GenerateConfig | None = None,
    n: int = 20,
    *,
    backend: QueryBackend | None = None,
    retriever: Retriever | None = None,
    encoder: Any = None,
    runner: Runner | None = None,
) -> list[PreviewRow]:
    """Generate and filter queries for ``n`` chunks only, to judge quality before paying for a full run.

    The chunks are the first ``n`` of the full run's sample, and LLM results are cached, so a full run later
    reuses them. Writes no queries file and no stage record. Verdicts: ``kept`` or the dropping filter's name.
    ``runner`` as for :func:`~embedtune.querygen.stage.generate_queries`.
    """
    cfg = config or GenerateConfig()
    ws, chunks = workspace_chunks(workspace)
    backend = backend or make_backend(cfg)
    sample = llm_sample(chunks, n, cfg.seed)
    ids = {c.id for c in sample}
    candidates, _, _ = candidate_queries(ws, chunks, sample if backend else [], cfg, backend, offline_ids=ids,
                                         ray_address=runner.ray_address if runner else None)
    eval_texts = read_query_texts(cfg.eval_queries) if cfg.eval_queries else []
    result = apply_filters(candidates, chunks, cfg.filters, eval_queries=eval_texts, retriever=retriever, encoder=encoder,
                           runner=runner)
    verdicts = {id(q): "kept" for q in result.kept} | {id(q): reason for q, reason in result.rejected}
    return [PreviewRow(c, [(q, verdicts[id(q)]) for q in candidates if q.chunk_id == c.id]) for c in sample]
