"""``embedtune run``: ingest -> generate -> split -> baseline -> mine -> teach -> train (-> again) -> report.

Each stage records itself in the workspace manifest and is skipped when its output is current, so an
interrupted run picks up at the stage it was in (and inside it, where that stage supports it). Round 2 and
later live in ``round-<n>/`` sub-workspaces that share the chunks and the split, so that mining with the
round-1 model never invalidates round 1's outputs.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from embedtune.corpus import ingest, load_chunks, print_ingest_summary
from embedtune.corpus.chunk import chunk_documents
from embedtune.dataset import build_split
from embedtune.encoding import set_default_inference
from embedtune.evaluation.beir import load_beir
from embedtune.evaluation.model_comparison import ModelComparison, compare_base_and_tuned, comparison_html
from embedtune.hardware import resolve_inference
from embedtune.hashing import fingerprint_paths
from embedtune.mining import mine, print_mining_summary
from embedtune.pipeline.config import RunConfig
from embedtune.pipeline.gate_stage import gate_stage
from embedtune.querygen import generate_queries, print_report
from embedtune.retrieval.base import Document
from embedtune.retrieval.embedding_cache import default_cache_dir, model_fingerprint
from embedtune.samples import scifact_sample
from embedtune.teach import teach
from embedtune.training.model_card import write_model_card
from embedtune.training.stage import train_stage, trained_model_dir
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import (
    BASELINE,
    BASELINE_HTML,
    CHUNKS,
    DEV_PAIRS,
    EVAL_QRELS,
    EVAL_QUERIES,
    EVAL_REPORT,
    EVAL_SPLIT_QUERIES,
    PIPELINE_ROUNDS,
    REPORT_HTML,
    TIMINGS,
    TRAIN_PAIRS,
)
from embedtune.progress import make_console

SHARED_FILES = (CHUNKS, TRAIN_PAIRS, DEV_PAIRS)  # what every round's sub-workspace starts from


@dataclass
class PipelineResult:
    """What a run produced. ``model_dir`` is the delivered model's folder (the trained one when the gate kept base,
    with ``delivered_base`` set: then deliver the base model)."""

    model_dir: Path
    comparison: ModelComparison | None
    report_html: Path
    seconds: dict[str, float] = field(default_factory=dict)
    gate: dict | None = None
    delivered_base: bool = False

    @property
    def exit_code(self) -> int:
        """0 when a tuned (or merged) model is delivered, 3 when the gate kept the base model."""
        return int(self.gate["exit_code"]) if self.gate else 0


def _round_workspace(ws: Workspace, n: int) -> Workspace:
    """``round-<n>/`` with copies of the shared inputs (copied only when changed, so stages stay current)."""
    sub = Workspace(PIPELINE_ROUNDS.path(ws, n))
    for artifact in SHARED_FILES:
        src, dst = artifact.path(ws), artifact.path(sub)
        if src.exists() and (not dst.exists() or fingerprint_paths([src])[str(src)] != fingerprint_paths([dst])[str(dst)]):
            shutil.copyfile(src, dst)
    return sub


def _eval_set(ws: Workspace) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    return EVAL_QUERIES.read(ws), EVAL_QRELS.read(ws)


def _chunk_docs(ws: Workspace) -> tuple[list[Document], dict[str, list[str]]]:
    chunks = load_chunks(ws)
    return chunk_documents(chunks), {c.id: list(c.doc_ids) for c in chunks}


def run_pipeline(config: RunConfig, workspace: str | Path, console: Console | None = None) -> PipelineResult:
    """Run every stage on ``config`` in ``workspace`` and return the tuned model and its comparison.

    The workspace is locked for the whole run: a second process on it is refused at once, naming this one.
    """
    ws = Workspace(workspace)
    with ws.lock():
        return _run_locked(config, ws, console or make_console())


def _run_locked(config: RunConfig, ws: Workspace, console: Console) -> PipelineResult:
    timings: dict[str, float] = {}
    base = config.base_model
    corpus = config.corpus or [scifact_sample()]
    eval_dataset = config.eval.dataset or (scifact_sample() if not config.corpus else None)
    cache_dir = default_cache_dir(ws.root)
    inference = resolve_inference(config.inference)  # "auto" -> this CPU's backend, recorded by its real name
    set_default_inference(inference)  # every stage that loads an encoder, training excepted
    _check_dims(config)

    def timed(name: str, fn, *args, **kwargs):
        console.rule(f"[bold]{name}")
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        timings[name] = round(time.perf_counter() - t0, 1)
        return out

    report = timed("ingest", ingest, corpus, ws, config.ingest.model_copy(update={"model": base}))
    print_ingest_summary(report)

    eval_queries = eval_qrels = None
    gen_cfg = config.generate
    if eval_dataset is not None:
        data = load_beir(eval_dataset, config.eval.split)
        eval_queries, eval_qrels = data.queries, data.qrels
        gen_cfg = gen_cfg.model_copy(update={"eval_queries": _write_eval_split_queries(ws, eval_queries, eval_qrels)})
    print_report(timed("generate", generate_queries, ws, gen_cfg), console)
    split = timed("split", build_split, ws, config.split, eval_queries, eval_qrels)
    if split is not None:
        r = split.report
        console.print(f"train {r['train_queries']:,} · dev {r['dev_queries']:,} · eval {r['eval_queries']:,} queries "
                      f"({r['eval_source']}); near-duplicates of eval dropped: {r['near_duplicates_of_eval_dropped']}")
        if "warning" in r:
            console.print(f"[yellow]warning:[/] {r['warning']}")

    docs, chunk_docs = _chunk_docs(ws)
    queries, qrels = _eval_set(ws)
    timed("baseline", _baseline, ws, docs, chunk_docs, queries, qrels, base, config, cache_dir, console)

    model_dir: Path | None = None
    for n in range(1, config.rounds + 1):
        round_ws = ws if n == 1 else _round_workspace(ws, n)
        miner = base if model_dir is None else str(model_dir)
        if config.mine:
            mined = timed(f"mine (round {n})", mine, round_ws,
                          config.mining.model_copy(update={"model": miner, "inference": inference}))
            print_mining_summary(mined.report, console)
        if config.teaching():
            taught = timed(f"teach (round {n})", teach, round_ws, config.teach, base)
            _print_teach(taught.report, console)
        result = timed(f"train (round {n})", train_stage, round_ws, base, config.train_config(), config.mine)
        if result is not None:
            console.print(f"trained {result.steps} steps on {result.train_rows:,} rows in {result.seconds:.0f}s")
        model_dir = trained_model_dir(round_ws)
    assert model_dir is not None

    dims = _report_dims(config, base)
    gate = None
    if config.gate.enabled:
        gate = timed("gate", gate_stage, ws, config.gate, base, model_dir, dims, config.train.seed)
        _print_gate(gate, console)
    kept_base = gate is not None and gate["delivered"] == "base"
    # Base against what is delivered; when the gate keeps base, against the refused model, to show why.
    candidate = Path(gate["delivered_model"]) if gate is not None and not kept_base else model_dir
    comparison = timed("evaluate", _evaluate, ws, docs, chunk_docs, queries, qrels, base, candidate, dims, config,
                       cache_dir, gate)
    _print_comparison(comparison, console)
    write_model_card(candidate, base, config.train_config(), {"eval queries": comparison.evaluation.n_queries},
                     comparison.dims, comparison.rows())
    TIMINGS.write(ws, timings)
    shown = f"{base} (the base model: nothing beat it)" if kept_base else candidate
    console.print(f"delivered model: [bold]{shown}[/]   report: [bold]{REPORT_HTML.path(ws)}[/]")
    return PipelineResult(candidate, comparison, REPORT_HTML.path(ws), timings, gate, delivered_base=kept_base)


def _report_dims(config: RunConfig, base: str) -> list[int]:
    from embedtune.models import load_embedder

    if config.report.dims:
        return list(config.report.dims)
    full = load_embedder(base, inference="torch").get_embedding_dimension()
    return config.train.resolved_dims(full) or [full]


def _print_gate(gate: dict, console: Console) -> None:
    console.rule("[bold]gate: what this run delivers")
    for line in gate.get("explanation", []):
        console.print(line, highlight=False)


def _check_dims(config: RunConfig) -> None:
    """Matryoshka dims larger than the base model's, before any stage runs (known for registry models)."""
    from embedtune.models.registry import registry_spec

    spec = registry_spec(config.base_model)
    if spec is not None and spec.dim:
        config.train.resolved_dims(spec.dim)


def _print_teach(report: dict, console: Console) -> None:
    console.print(f"teacher {report['teacher']}: {report['rows_out']:,} of {report['rows_in']:,} rows kept "
                  f"({report['dropped_inconsistent']:,} whose positive it ranks low, "
                  f"{report['false_negatives_dropped']:,} false negatives dropped)", highlight=False)


def _write_eval_split_queries(ws: Workspace, queries: dict[str, str], qrels: dict) -> Path:
    """The eval split's queries only, for the contamination filter: a BEIR queries.jsonl also holds the
    training queries, and those must stay usable (e.g. imported as labelled training queries)."""
    return EVAL_SPLIT_QUERIES.write(ws, {q: queries[q] for q in qrels if q in queries})


def _baseline(ws, docs, chunk_docs, queries, qrels, base, config, cache_dir, console) -> None:
    from embedtune.evaluation.baseline import run_baseline
    from embedtune.evaluation.render import baseline_html, print_baseline

    inputs = fingerprint_paths([CHUNKS.path(ws), EVAL_QUERIES.path(ws), EVAL_QRELS.path(ws)])
    rerank = config.report.resolved_rerank()
    params = {"model": model_fingerprint(_resolve(base)), "rerank": rerank}
    if rerank is not None:  # absent without a reranker, so workspaces from before rerank_top stay current
        params["rerank_top"] = config.report.rerank_top
    inference = resolve_inference(config.inference)
    if inference != "torch":  # absent for torch, so existing workspaces stay current
        params["inference"] = inference
    if ws.is_current("baseline", inputs, params):
        console.print("baseline is current, skipping")
        return
    with ws.stage("baseline", inputs, params) as run:
        result = run_baseline(docs, queries, qrels, model=base, rerank=rerank, rerank_top=config.report.rerank_top,
                              cache_dir=cache_dir,
                              dataset=ws.root.name, split="eval", chunk_docs=chunk_docs)
        print_baseline(result, console)
        BASELINE.write(run, result.to_json())
        baseline_html(result).save(BASELINE_HTML.target(run))


def _resolve(model: str) -> Path:
    from embedtune.models import resolve_model

    return resolve_model(model)


def _evaluate(ws, docs, chunk_docs, queries, qrels, base, model_dir, dims, config, cache_dir, gate) -> ModelComparison:
    comparison = compare_base_and_tuned(
        docs, queries, qrels, base, model_dir, dims, chunk_docs=chunk_docs, bm25=config.report.bm25,
        hybrid=config.report.hybrid, cache_dir=cache_dir, dataset=ws.root.name, split="eval",
    )
    # The gate's verdict beside the eval numbers it was decided without.
    EVAL_REPORT.write(ws, comparison.to_json() | ({"gate": gate} if gate else {}))
    comparison_html(comparison, f"embedtune: {ws.root.name}").save(REPORT_HTML.target(ws))
    return comparison


def _print_comparison(comparison: ModelComparison, console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"Held-out queries: {comparison.evaluation.n_queries:,}  (NDCG@10, MaxP over chunks)")
    for col in ("dim", "base", "tuned", "delta", "p-value"):
        table.add_column(col, justify="right")
    for row in comparison.rows():
        mark = "[green]" if row["significant"] and row["delta"] > 0 else "[red]" if row["delta"] < 0 else ""
        table.add_row(str(row["dim"]), f"{row['base ndcg@10']:.4f}", f"{row['tuned ndcg@10']:.4f}",
                      f"{mark}{row['delta']:+.4f}", f"{row['p-value']:.3g}")
    console.print(table)
    if c := comparison.small_vs_full:
        console.print(f"{c.system} vs {c.reference}: {c.system_mean:.4f} vs {c.reference_mean:.4f} ({c.delta:+.4f})")
    for name in ("bm25", "hybrid:base", "hybrid:tuned"):
        if name in comparison.evaluation.systems:
            console.print(f"{name}: {comparison.evaluation.systems[name].means['ndcg@10']:.4f}")
