"""``embedtune eval`` (score systems on a BEIR folder) and ``embedtune baseline`` (where do I stand? train?)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.cli.options import InferenceOpt, RayAddressOpt, make_runner, quiet_libraries

from embedtune.errors import EmbedtuneError
from embedtune.models.registry import DEFAULT_MODEL

DatasetOpt = Annotated[
    Path, typer.Option("--dataset", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.")
]
SplitOpt = Annotated[str, typer.Option(help="Which qrels/<split>.tsv to evaluate.")]
ModelOpt = Annotated[str, typer.Option(help="Embedding model: registry name, folder, or cached hub id.")]
RerankOpt = Annotated[
    str | None, typer.Option(help="Cross-encoder folder (or cached hub id) re-scoring the dense top-N.")
]
RerankTopOpt = Annotated[int, typer.Option(help="How many first-stage documents the cross-encoder re-scores.")]


def _ints(spec: str | None, what: str) -> list[int] | None:
    if spec is None:
        return None
    try:
        values = [int(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise EmbedtuneError(f"{what} must be comma-separated integers, got {spec!r}") from None
    if not values or any(v <= 0 for v in values):
        raise EmbedtuneError(f"{what} must be positive integers, got {spec!r}")
    return values


def _floats(spec: str | None, what: str) -> list[float] | None:
    if spec is None:
        return None
    try:
        return [float(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise EmbedtuneError(f"{what} must be comma-separated numbers, got {spec!r}") from None


def evaluate(
    dataset: DatasetOpt,
    split: SplitOpt = "test",
    model: ModelOpt = DEFAULT_MODEL,
    dense: Annotated[bool, typer.Option("--dense/--no-dense", help="Evaluate the dense model.")] = True,
    bm25: Annotated[bool, typer.Option("--bm25", help="Evaluate BM25.")] = False,
    hybrid: Annotated[bool, typer.Option("--hybrid", help="Evaluate BM25 + dense fused by RRF.")] = False,
    rerank: RerankOpt = None,
    rerank_top: RerankTopOpt = 20,
    dims: Annotated[str | None, typer.Option(help="Matryoshka dimensions, e.g. 384,256,128,64.")] = None,
    metrics: Annotated[
        str | None, typer.Option(help="e.g. ndcg@10,recall@100 (default: ndcg/recall/precision/mrr/map @1,3,5,10,100).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    workspace: Annotated[
        Path | None, typer.Option(help="Run directory: its cache/embeddings/ holds corpus embeddings.")
    ] = None,
    per_query: Annotated[bool, typer.Option("--per-query", help="Include per-query scores in the JSON.")] = False,
    bm25_fields: Annotated[
        str, typer.Option(help="multifield (title and text as BM25 fields, BEIR/Pyserini) or flat (joined).")
    ] = "multifield",
    rrf_k: Annotated[int, typer.Option(help="Reciprocal rank fusion constant.")] = 60,
    hybrid_weights: Annotated[str | None, typer.Option(help="RRF weights for bm25,dense, e.g. 1,2.")] = None,
    inference: InferenceOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Evaluate dense, BM25, hybrid and reranked retrieval on a BEIR folder; the first system is the reference."""
    from embedtune.evaluation import build_retrievers, evaluate_retrievers, load_beir, parse_metrics
    from embedtune.evaluation.render import evaluation_html, print_evaluation
    from embedtune.retrieval.embedding_cache import default_cache_dir
    from embedtune.cli.outputs import save_outputs

    chosen = parse_metrics(metrics) if metrics is not None else None  # bad names fail before any work
    runner = make_runner(inference, ray_address)
    dim_list = _ints(dims, "--dims")
    weights = _floats(hybrid_weights, "--hybrid-weights")
    if weights is not None and len(weights) != 2:
        raise EmbedtuneError(f"--hybrid-weights takes two numbers (bm25,dense), got {hybrid_weights!r}")
    data = load_beir(dataset, split, warn=False)
    for w in data.warnings:
        typer.secho(f"warning: {w}", fg="yellow", err=True)
    quiet_libraries()
    retrievers = build_retrievers(
        model, dense=dense, dims=dim_list, bm25=bm25, hybrid=hybrid, rerank=rerank, rerank_top=rerank_top,
        rrf_k=rrf_k, hybrid_weights=weights, bm25_fields=bm25_fields,
        cache_dir=default_cache_dir(workspace) if workspace is not None else None, runner=runner,
    )
    report = evaluate_retrievers(
        retrievers, data.corpus, data.queries, data.qrels, chosen,
        comparison_metrics=chosen, dataset=data.name, split=split, warnings=data.warnings,
    )
    print_evaluation(report)
    save_outputs(json_out, lambda: report.to_json(per_query=per_query), html_out, lambda: evaluation_html(report))


def baseline(
    dataset: DatasetOpt,
    workspace: Annotated[Path, typer.Option(help="Run directory: baseline.json and baseline.html go here.")],
    split: SplitOpt = "test",
    model: ModelOpt = DEFAULT_MODEL,
    rerank: RerankOpt = None,
    rerank_top: RerankTopOpt = 20,
    force: Annotated[
        bool, typer.Option("--force", help="Recompute even when the workspace's baseline is current.")
    ] = False,
    inference: InferenceOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Establish a baseline before training: BM25, dense, hybrid (and rerank), where queries fail, and a verdict."""
    from embedtune.evaluation.beir_stage import BeirBaselineConfig, beir_baseline
    from embedtune.evaluation.render import print_baseline
    from embedtune.workspace.artifacts import BASELINE, BASELINE_HTML

    runner = make_runner(inference, ray_address)
    quiet_libraries()
    config = BeirBaselineConfig(dataset=dataset, split=split, model=model, rerank=rerank, rerank_top=rerank_top)
    result = beir_baseline(workspace, config, force=force, runner=runner)
    if result.value is None:
        verdict = BASELINE.read(workspace)["verdict"]
        typer.echo(f"baseline is current in {workspace} (use --force to recompute)")
        typer.echo(verdict["headline"])
        for line in verdict["findings"]:
            typer.echo(f"  - {line}")
        return
    print_baseline(result.value)
    typer.echo(f"wrote {BASELINE.path(workspace)} and {BASELINE_HTML.path(workspace)}")


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)
    app.command("baseline")(baseline)
