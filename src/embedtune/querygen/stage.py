"""The ``generate`` stage: ``chunks.jsonl`` -> synthetic queries (``queries.jsonl``) + ``querygen_report.json``.

Most teams have no labelled queries. The standard recipe (InPars, Bonifacio et al. 2022; Promptagator, Dai et
al. 2022; GPL, Wang et al. 2022) has an LLM write, for each chunk, the questions a user would ask that it answers,
and keeps the (query, chunk) pairs that survive quality filters. Here an LLM covers a budgeted sample of chunks
(``max_chunks``, :mod:`~embedtune.querygen.jobs`), offline signals (titles, headings, inverse cloze, keyphrases)
cover every chunk at no cost, and the report counts every source and every filter separately so a person can
judge which ones to train on.

Every LLM call goes through a SQLite cache in the workspace: a killed run resumes where it stopped, a rerun
pays nothing, and a changed prompt regenerates only the calls that used it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embedtune.corpus import load_chunks
from embedtune.errors import EmbedtuneError
from embedtune.hashing import fingerprint_paths, sha256_file
from embedtune.progress import console
from embedtune.querygen.backends import QueryBackend, offline_queries
from embedtune.querygen.cache import GenerationCache
from embedtune.querygen.config import INPUT_FILES, GenerateConfig, make_backend
from embedtune.querygen.estimate import estimate, format_estimate
from embedtune.querygen.filters import FilterConfig, apply_filters
from embedtune.querygen.jobs import Job, llm_sample, plan_jobs, prompt_set, run_jobs
from embedtune.querygen.labelled import labelled_queries
from embedtune.querygen.query import Query, read_query_texts
from embedtune.querygen.report import Estimate, LLMStats, QuerygenReport
from embedtune.retrieval.base import Retriever
from embedtune.retrieval.runner import Runner
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import CHUNKS, QUERIES, QUERYGEN_CACHE, QUERYGEN_REPORT, REJECTED_QUERIES
from embedtune.workspace.rows import Chunk, RejectedQuery

STAGE = "generate"


def _inputs(ws: Workspace, config: GenerateConfig) -> dict[str, str]:
    extra = [p for p in (getattr(config, name) for name in INPUT_FILES) if p is not None]
    return {CHUNKS.relpath: sha256_file(CHUNKS.path(ws))} | fingerprint_paths(extra)


def workspace_chunks(workspace: Workspace | str | Path) -> tuple[Workspace, list[Chunk]]:
    """The workspace and its chunks; EmbedtuneError when there are none to write queries for."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    chunks = load_chunks(ws)
    if not chunks:
        raise EmbedtuneError(f"{CHUNKS.path(ws)} has no chunks; run `embedtune ingest` on some documents first")
    return ws, chunks


def _cached_keys(ws: Workspace, jobs: Sequence[Job]) -> set[str]:
    if not QUERYGEN_CACHE.exists(ws):
        return set()
    with GenerationCache(QUERYGEN_CACHE.path(ws)) as cache:
        return set(cache.get_many([j.request.key for j in jobs]))


def estimate_generation(
    workspace: Workspace | str | Path, config: GenerateConfig | None = None, *, backend: QueryBackend | None = None
) -> Estimate | None:
    """What the LLM part of :func:`generate_queries` would cost, without running anything (``--dry-run``)."""
    cfg = config or GenerateConfig()
    ws, chunks = workspace_chunks(workspace)
    backend = backend or make_backend(cfg)
    if backend is None:
        return None
    jobs = plan_jobs(llm_sample(chunks, cfg.max_chunks, cfg.seed), chunks, cfg, backend, prompt_set(cfg, backend))
    return estimate(jobs, _cached_keys(ws, jobs), backend, cfg)


def candidate_queries(
    ws: Workspace, chunks: list[Chunk], sample: list[Chunk], cfg: GenerateConfig, backend: QueryBackend | None,
    offline_ids: set[str] | None = None, ray_address: str | None = None,
) -> tuple[list[Query], LLMStats | None, Estimate | None]:
    """LLM queries for ``sample`` (on the Ray cluster at ``ray_address``, if any) and offline-signal queries (for
    chunks in ``offline_ids``, default all)."""
    llm_queries: list[Query] = []
    stats = est = None
    if backend is not None and sample:
        jobs = plan_jobs(sample, chunks, cfg, backend, prompt_set(cfg, backend))
        with GenerationCache(QUERYGEN_CACHE.path(ws)) as cache:
            est = estimate(jobs, set(cache.get_many([j.request.key for j in jobs])), backend, cfg)
            console.print(format_estimate(est, backend), highlight=False)
            llm_queries, stats = run_jobs(jobs, backend, cache, ray_address=ray_address)
        if backend.name == "openai":
            o = cfg.openai
            stats.cost_usd = (stats.prompt_tokens * o.price_in + stats.completion_tokens * o.price_out) / 1e6
    offline = offline_queries(chunks, cfg.signals, seed=cfg.seed)
    if offline_ids is not None:
        offline = [q for q in offline if q.chunk_id in offline_ids]
    return llm_queries + offline, stats, est


def generate_queries(
    workspace: Workspace | str | Path,
    config: GenerateConfig | None = None,
    *,
    force: bool = False,
    backend: QueryBackend | None = None,
    retriever: Retriever | None = None,
    encoder: Any = None,
    runner: Runner | None = None,
) -> QuerygenReport:
    """Write ``queries.jsonl``, ``querygen_rejected.jsonl`` and ``querygen_report.json`` into ``workspace``.

    Skips when the stage is current (same chunks, config and prompts) unless ``force``; a run whose LLM calls
    partly failed is never current, so rerunning retries just those. ``backend``, ``retriever`` and ``encoder``
    override what the config would build (for tests and custom setups). ``runner`` loads the filters' encoder
    and, with a Ray cluster, writes the LLM queries there (default: this process, ``load_embedder``'s backend).
    """
    cfg = config or GenerateConfig()
    t0 = time.perf_counter()
    ws, chunks = workspace_chunks(workspace)
    backend = backend or make_backend(cfg)
    inputs = _inputs(ws, cfg)
    params = cfg.stage_params()
    if backend is not None:
        prompts = prompt_set(cfg, backend)
        # Template edits (e.g. in --prompt-dir) make the stage stale; n is fixed by per_chunk, already in params.
        params["prompts"] = {s: prompts.prompt_hash(s, 0) for s in prompts.templates}
        params["generator"] = backend.cache_id
    record = ws.stage_record(STAGE)
    if (
        not force and ws.is_current(STAGE, inputs, params) and QUERYGEN_REPORT.exists(ws)
        and record is not None and not record.summary.get("failed_calls")
    ):
        console.print(f"generate is current, skipping ({QUERIES.path(ws)})", highlight=False)
        return QUERYGEN_REPORT.read_model(ws, QuerygenReport).model_copy(update={"reused": True})

    eval_texts = read_query_texts(cfg.eval_queries) if cfg.eval_queries else []
    with ws.stage(STAGE, inputs, params) as run:
        sample = llm_sample(chunks, cfg.max_chunks, cfg.seed) if backend is not None else []
        candidates, stats, est = candidate_queries(ws, chunks, sample, cfg, backend,
                                                   ray_address=runner.ray_address if runner else None)
        result = apply_filters(
            candidates, chunks, cfg.filters, eval_queries=eval_texts, retriever=retriever, encoder=encoder,
            runner=runner,
        )
        if cfg.labelled is not None:
            human, missing = labelled_queries(chunks, cfg.labelled, cfg.labelled_split)
            if missing:
                console.print(f"{cfg.labelled}: {missing:,} labelled documents are not in the corpus, skipped")
            checked = apply_filters(human, chunks, _human_filters(cfg.filters), eval_queries=eval_texts, encoder=encoder,
                                    runner=runner)
            candidates = candidates + human
            result.kept += checked.kept
            result.rejected += checked.rejected
            result.contamination += checked.contamination
        QUERIES.write(run, result.kept)
        REJECTED_QUERIES.write(run, (RejectedQuery(**q.model_dump(), dropped_by=reason) for q, reason in result.rejected))
        report = QuerygenReport.count(
            candidates, result.kept, result.rejected, chunks=len(chunks), llm=stats, estimate=est,
            signals=cfg.signals, contamination=result.contamination,
            round_trip=_round_trip_label(cfg.filters, retriever),
        )
        report.seconds = round(time.perf_counter() - t0, 2)
        QUERYGEN_REPORT.write(run, report)
        run.record.summary = {
            "candidates": len(candidates), "kept": len(result.kept),
            "failed_calls": stats.failed_calls if stats else 0,
        }
    return report


def _human_filters(filters: FilterConfig) -> FilterConfig:
    """Real queries are what the synthetic filters try to imitate: only duplicates and eval contamination apply."""
    return filters.model_copy(update={
        "min_chars": 1, "min_words": 1, "max_words": 10_000, "drop_meta": False, "copy_threshold": None,
        "round_trip": "none", "near_duplicate": None,
    })


def load_queries(workspace: Workspace | str | Path) -> list[Query]:
    """The queries the ``generate`` stage kept, from ``<workspace>/queries.jsonl``."""
    return QUERIES.read(workspace)


def _round_trip_label(filters: FilterConfig, retriever: Retriever | None) -> str:
    if filters.round_trip == "none":
        return "off"
    name = retriever.name if retriever is not None else filters.round_trip
    return f"{name}, passage in top-{filters.round_trip_k}"
