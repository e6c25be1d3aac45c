"""The ``chunk-baseline`` stage of ``embedtune run``: where the base model stands before any training.

BM25, dense and hybrid (and a reranker when there is one) on the run's eval split, searching the workspace's
chunks and scored per document by its best chunk (MaxP). ``embedtune baseline`` asks the same question of a
BEIR folder's documents; the two are different measurements, so each has its own stage name and files
(``chunk_baseline.*`` here, ``baseline.*`` there) and neither makes the other stale.
"""

from __future__ import annotations


from typing import TYPE_CHECKING

from rich.console import Console

from embedtune.corpus import load_chunks
from embedtune.corpus.chunk import chunk_documents
from embedtune.hashing import fingerprint_paths
from embedtune.pipeline.config import RunConfig
from embedtune.pipeline.runner import run_runner
from embedtune.progress import make_console
from embedtune.retrieval.embedding_cache import default_cache_dir, model_fingerprint
from embedtune.retrieval.runner import Runner
from embedtune.workspace import StageResult, Workspace
from embedtune.workspace.artifacts import CHUNK_BASELINE, CHUNK_BASELINE_HTML, CHUNKS, EVAL_QRELS, EVAL_QUERIES

if TYPE_CHECKING:
    from embedtune.evaluation.baseline import BaselineReport

STAGE = "chunk-baseline"


def baseline(ws: Workspace, config: RunConfig, *, force: bool = False, runner: Runner | None = None,
             console: Console | None = None) -> StageResult[BaselineReport]:
    """Score the base model (and BM25, hybrid, rerank) on the eval split; ``value`` is None when current."""
    from embedtune.evaluation.baseline import run_baseline
    from embedtune.evaluation.render import baseline_html, print_baseline
    from embedtune.models import resolve_model

    console = console or make_console()
    console.rule("[bold]baseline")
    inputs = fingerprint_paths([CHUNKS.path(ws), EVAL_QUERIES.path(ws), EVAL_QRELS.path(ws)])
    rerank = config.report.resolved_rerank()
    params = {"model": model_fingerprint(resolve_model(config.base_model)), "rerank": rerank}
    if rerank is not None:  # absent without a reranker, so workspaces from before rerank_top stay current
        params["rerank_top"] = config.report.rerank_top
    runner = run_runner(config, runner)
    if runner.inference != "torch":  # absent for torch, so existing workspaces stay current
        params["inference"] = runner.inference
    if not force and ws.is_current(STAGE, inputs, params):
        console.print("baseline is current, skipping")
        return StageResult.recorded(ws, STAGE, None, reused=True)
    chunks = load_chunks(ws)
    with ws.stage(STAGE, inputs, params) as run:
        report = run_baseline(chunk_documents(chunks), EVAL_QUERIES.read(ws), EVAL_QRELS.read(ws),
                              model=config.base_model, rerank=rerank, rerank_top=config.report.rerank_top,
                              cache_dir=default_cache_dir(ws.root), dataset=ws.root.name, split="eval",
                              chunk_docs={c.id: list(c.doc_ids) for c in chunks}, runner=runner)
        print_baseline(report, console)
        CHUNK_BASELINE.write(run, report.to_json())
        baseline_html(report).save(CHUNK_BASELINE_HTML.target(run))
        run.record.summary = {"verdict": report.verdict.label, "best_cheap_system": report.best_cheap}
    return StageResult.recorded(ws, STAGE, report, reused=False)
