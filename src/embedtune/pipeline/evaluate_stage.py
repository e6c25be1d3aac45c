"""The ``evaluate`` stage of ``embedtune run``: base against the delivered model, the run's proof.

Every Matryoshka dim (plus BM25 and the hybrids) on the eval split, chunks scored per document (MaxP), with a
paired significance test per dim; writes ``eval_report.json`` (with the gate's verdict beside the numbers it
was decided without), ``report.html`` and the delivered model's card. Recorded like every stage, so a rerun of
a finished run does not evaluate again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from embedtune.hashing import fingerprint_paths
from embedtune.pipeline.config import RunConfig
from embedtune.pipeline.runner import run_runner
from embedtune.progress import make_console
from embedtune.retrieval.embedding_cache import default_cache_dir, model_fingerprint
from embedtune.retrieval.runner import Runner
from embedtune.training.model_card import model_files, write_model_card
from embedtune.workspace import StageResult, Workspace
from embedtune.pipeline.report_sections import add_gate_section, add_teacher_section
from embedtune.workspace.artifacts import (
    CHUNKS,
    EVAL_QRELS,
    EVAL_QUERIES,
    EVAL_REPORT,
    GATE_RESULT,
    REPORT_HTML,
    TEACH_REPORT,
)

if TYPE_CHECKING:
    from embedtune.evaluation.model_comparison import ModelComparison

STAGE = "evaluate"


def report_dims(config: RunConfig) -> list[int]:
    """The dims the report (and the gate) compare: ``report.dims``, else the trained Matryoshka dims."""
    from embedtune.models import load_embedder

    if config.report.dims:
        return list(config.report.dims)
    full = load_embedder(config.base_model, inference="torch").get_embedding_dimension()
    return config.train.resolved_dims(full) or [full]


def evaluate(ws: Workspace, config: RunConfig, *, model_dir: Path, dims: list[int], gate: dict[str, Any] | None = None,
             force: bool = False, runner: Runner | None = None,
             console: Console | None = None) -> StageResult[ModelComparison]:
    """Compare ``config.base_model`` with ``model_dir`` at ``dims``; ``value`` is None when current (the
    numbers are then in ``eval_report.json``)."""
    from embedtune.evaluation.model_comparison import compare_base_and_tuned, comparison_html
    from embedtune.models import resolve_model

    console = console or make_console()
    console.rule("[bold]evaluate")
    inputs = fingerprint_paths([CHUNKS.path(ws), EVAL_QUERIES.path(ws), EVAL_QRELS.path(ws), *model_files(model_dir),
                                *([GATE_RESULT.path(ws)] if gate is not None else []),
                                *([TEACH_REPORT.path(ws)] if config.teaching() and TEACH_REPORT.exists(ws) else [])])
    params = {"base": model_fingerprint(resolve_model(config.base_model)), "dims": sorted(dims),
              "bm25": config.report.bm25, "hybrid": config.report.hybrid,
              "card": config.train_config().model_dump(mode="json")}
    runner = run_runner(config, runner)
    if runner.inference != "torch":  # absent for torch, as in the baseline's record
        params["inference"] = runner.inference
    if not force and ws.is_current(STAGE, inputs, params) and EVAL_REPORT.exists(ws):
        print_comparison(EVAL_REPORT.read(ws), console)
        return StageResult.recorded(ws, STAGE, None, reused=True)
    from embedtune.corpus import load_chunks
    from embedtune.corpus.chunk import chunk_documents

    chunks = load_chunks(ws)
    with ws.stage(STAGE, inputs, params) as run:
        comparison = compare_base_and_tuned(
            chunk_documents(chunks), EVAL_QUERIES.read(ws), EVAL_QRELS.read(ws), config.base_model, model_dir, dims,
            chunk_docs={c.id: list(c.doc_ids) for c in chunks}, bm25=config.report.bm25, hybrid=config.report.hybrid,
            cache_dir=default_cache_dir(ws.root), dataset=ws.root.name, split="eval", runner=runner,
        )
        report = comparison.to_json() | ({"gate": gate} if gate else {})
        EVAL_REPORT.write(run, report)
        page = comparison_html(comparison, f"embedtune: {ws.root.name}")
        if gate is not None:
            add_gate_section(page, gate)
        if config.teaching() and TEACH_REPORT.exists(ws):
            add_teacher_section(page, TEACH_REPORT.read(ws))
        page.save(REPORT_HTML.target(run))
        write_model_card(model_dir, config.base_model, config.train_config(),
                         {"eval queries": comparison.evaluation.n_queries}, comparison.dims, comparison.rows())
        run.record.summary = {"queries": comparison.evaluation.n_queries,
                              **{f"delta@{r['dim']}": round(float(r["delta"]), 4) for r in comparison.rows()}}
    print_comparison(report, console)
    return StageResult.recorded(ws, STAGE, comparison, reused=False)


def print_comparison(report: dict[str, Any], console: Console) -> None:
    """The per-dim table of ``eval_report.json`` (base, tuned, delta, p-value), then the small-vs-full line and
    the lexical and hybrid systems."""
    from rich.table import Table

    table = Table(title=f"Held-out queries: {report['n_queries']:,}  (NDCG@10, MaxP over chunks)")
    for col in ("dim", "base", "tuned", "delta", "p-value"):
        table.add_column(col, justify="right")
    for row in report["tuned_vs_base"]:
        mark = "[green]" if row["significant"] and row["delta"] > 0 else "[red]" if row["delta"] < 0 else ""
        table.add_row(str(row["dim"]), f"{row['base ndcg@10']:.4f}", f"{row['tuned ndcg@10']:.4f}",
                      f"{mark}{row['delta']:+.4f}", f"{row['p-value']:.3g}")
    console.print(table)
    console.print(held_out_verdict(report["tuned_vs_base"]), highlight=False)
    if hint := next_step(report):
        console.print(hint, highlight=False)
    if c := report.get("tuned_small_vs_base_full"):
        console.print(f"{c['system']} vs {c['reference']}: {c['system_mean']:.4f} vs {c['reference_mean']:.4f} "
                      f"({c['delta']:+.4f})")
    for name in ("bm25", "hybrid:base", "hybrid:tuned"):
        if name in report["runs"]:
            console.print(f"{name}: {report['runs'][name]['ndcg@10']:.4f}")


def significant_dims(rows: list[dict[str, Any]], sign: int) -> list[int]:
    """The dims where the tuned model is significantly better (``sign`` +1) or worse (-1) than base."""
    return [r["dim"] for r in rows if r["significant"] and r["delta"] * sign > 0]


def held_out_verdict(rows: list[dict[str, Any]]) -> str:
    """One plain line on the eval queries: where the delivered model is significantly better or worse than base.

    The gate delivers a model only when it beats base on the dev slice; this says whether the held-out queries,
    which the gate never reads, agree."""
    better, worse = significant_dims(rows, +1), significant_dims(rows, -1)
    if worse:
        return f"held-out queries: significantly WORSE than base at {', '.join(map(str, worse))} dims"
    if not better:
        return "held-out queries: not significantly better than base at any dim (the gate chose it on the dev slice)"
    return f"held-out queries: significantly better than base at {', '.join(map(str, better))} dims"


def next_step(report: dict[str, Any]) -> str | None:
    """What to do when the held-out queries see no significant lift (None when they do).

    Measured (``benchmarks/query_ceiling.py``): more generated rows or steps do not move a strong base model, real
    queries do; and hybrid search is a gain available today when it beats the tuned model."""
    if significant_dims(report["tuned_vs_base"], +1):
        return None
    hint = ("next: real queries are what lift a model here, not more generated ones: train with labelled pairs "
            "(`embedtune generate --labelled`), a search log without clicks labelled by the teacher (`embedtune label`), "
            "or click logs (`embedtune feedback import`, then `embedtune retrain`)")
    runs, full = report["runs"], max(report["tuned_vs_base"], key=lambda r: r["dim"])
    hybrid = max((n for n in ("hybrid:base", "hybrid:tuned") if n in runs), key=lambda n: runs[n]["ndcg@10"], default=None)
    if hybrid is not None and runs[hybrid]["ndcg@10"] > full["tuned ndcg@10"]:
        hint += f"; today, {hybrid} search scores {runs[hybrid]['ndcg@10']:.4f} against {full['tuned ndcg@10']:.4f}"
    return hint
