"""The ``baseline`` stage of ``embedtune baseline``: where a model stands on a BEIR folder, before any training.

BM25, dense and hybrid (and a reranker when asked) on one split of a BEIR folder's documents, with a verdict
(:func:`~embedtune.evaluation.baseline.run_baseline`), into ``baseline.json`` and ``baseline.html`` of a
workspace. ``embedtune run`` measures something else (its workspace's chunks, per document by MaxP) under its own
stage name, ``chunk-baseline`` (:mod:`embedtune.pipeline.baseline_stage`), so neither overwrites the other.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from rich.markup import escape

from embedtune.evaluation.baseline import BaselineReport, run_baseline
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.progress import console
from embedtune.retrieval.runner import Runner
from embedtune.workspace import StageResult, Workspace
from embedtune.workspace.artifacts import BASELINE, BASELINE_HTML

STAGE = "baseline"


class BeirBaselineConfig(BaseModel):
    """What :func:`beir_baseline` scores: ``split`` of the BEIR folder ``dataset`` with ``model``."""

    dataset: Path = Field(description="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.")
    split: str = "test"
    model: str = DEFAULT_MODEL
    rerank: str | None = Field(default=None, description="Cross-encoder re-scoring the dense top rerank_top.")
    rerank_top: int = 20


def beir_baseline(workspace: Workspace | str | Path, config: BeirBaselineConfig, *, force: bool = False,
                  runner: Runner | None = None) -> StageResult[BaselineReport]:
    """Write ``baseline.json`` and ``baseline.html`` into ``workspace``; ``value`` is the report, None when the
    stage was current (same split files, models by content, settings and backend) and ``force`` is off.

    ``runner`` loads and encodes with the dense model (default: ``$EMBEDTUNE_INFERENCE``, else torch, here).

    Example::

        from embedtune.evaluation.beir_stage import BeirBaselineConfig, beir_baseline
        from embedtune.samples import scifact_sample

        result = beir_baseline("embedtune-runs/base", BeirBaselineConfig(dataset=scifact_sample()))
        print(result.reused, result.summary["verdict"])
    """
    from embedtune.evaluation.beir import load_beir, split_fingerprint
    from embedtune.evaluation.render import baseline_html
    from embedtune.models import resolve_model
    from embedtune.retrieval.embedding_cache import default_cache_dir, model_fingerprint
    from embedtune.retrieval.rerank import resolve_cross_encoder

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    runner = runner or Runner.configure()
    data = load_beir(config.dataset, config.split, warn=False)
    for w in data.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    inputs = split_fingerprint(config.dataset, config.split)
    params = {"split": config.split, "model": config.model, "model_hash": model_fingerprint(resolve_model(config.model)),
              "rerank": config.rerank, "rerank_top": config.rerank_top, "inference": runner.inference,
              "rerank_hash": model_fingerprint(resolve_cross_encoder(config.rerank)) if config.rerank else None}
    if not force and ws.is_current(STAGE, inputs, params):
        return StageResult.recorded(ws, STAGE, None, reused=True)
    with ws.stage(STAGE, inputs, params) as run:
        report = run_baseline(
            data.corpus, data.queries, data.qrels, model=config.model, rerank=config.rerank,
            rerank_top=config.rerank_top, cache_dir=default_cache_dir(ws.root), dataset=data.name,
            split=config.split, warnings=data.warnings, runner=runner,
        )
        BASELINE.write(run, report.to_json())
        baseline_html(report).save(BASELINE_HTML.target(run))
        run.record.summary = {"verdict": report.verdict.label, "best_cheap_system": report.best_cheap}
    return StageResult.recorded(ws, STAGE, report, reused=False)
