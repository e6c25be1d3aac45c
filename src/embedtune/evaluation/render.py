"""How evaluations are shown: a rich table on the terminal and sections of an HTML report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape as _esc

from rich.console import Console
from rich.table import Table

from embedtune.evaluation.baseline import BaselineReport
from embedtune.evaluation.evaluate import EvaluationReport
from embedtune.report.html import HtmlReport
from embedtune.progress import make_console

KEY_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100")
TERMINAL_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
_DENSE = re.compile(r"^dense:(?P<model>.+)@(?P<dim>\d+)$")
MAX_COLUMNS = 8


def shown_metrics(report: EvaluationReport) -> list[str]:
    """All metrics when few were asked for, else the key ones among them."""
    if len(report.metrics) <= MAX_COLUMNS:
        return list(report.metrics)
    return [m for m in KEY_METRICS if m in report.metrics] or report.metrics[:MAX_COLUMNS]


def primary_metric(report: EvaluationReport) -> str:
    return "ndcg@10" if "ndcg@10" in report.metrics else report.metrics[0]


def _p_text(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def print_evaluation(
    report: EvaluationReport, console: Console | None = None, metrics: Sequence[str] | None = None
) -> None:
    """Systems x metrics, best value per column in bold, plus each system's delta and p against the reference."""
    console = console or make_console()
    metrics, primary = list(metrics or shown_metrics(report)), primary_metric(report)
    title = f"{report.dataset} ({report.split}): {report.n_queries:,} queries"
    table = Table(title=title)
    table.add_column("system", overflow="fold")
    for m in metrics:
        table.add_column(m, justify="right")
    table.add_column(f"Δ {primary} (p)", justify="right")
    table.caption = f"Δ: against the reference {report.reference}; p: paired randomisation test"
    best = {m: max(s.means[m] for s in report.systems.values()) for m in metrics}
    for name, s in report.systems.items():
        cells = [f"[bold]{s.means[m]:.4f}[/]" if s.means[m] == best[m] and len(report.systems) > 1
                 else f"{s.means[m]:.4f}" for m in metrics]
        c = report.comparison(name, primary)
        delta = "reference" if c is None else f"{c.delta:+.4f} ({_p_text(c.p_randomization)})"
        table.add_row(name, *cells, delta)
    console.print(table)
    if report.no_relevant:
        console.print(f"[yellow]{len(report.no_relevant)} judged queries have no relevant document; not scored[/]")


def dim_curves(report: EvaluationReport, metric: str) -> dict[str, dict[int, float]]:
    """``{model: {dim: metric}}`` for dense systems evaluated at more than one dimension."""
    curves: dict[str, dict[int, float]] = {}
    for name, s in report.systems.items():
        if (m := _DENSE.match(name)) is not None:
            curves.setdefault(m["model"], {})[int(m["dim"])] = s.means[metric]
    return {k: v for k, v in curves.items() if len(v) > 1}


def add_evaluation(html: HtmlReport, report: EvaluationReport) -> HtmlReport:
    """Metric tables, bar chart, metric-vs-dimension curve, comparisons and per-query win/loss histograms."""
    metrics, primary = shown_metrics(report), primary_metric(report)
    html.add_section("Metrics", f"<p>{report.n_queries:,} queries with at least one relevant document; "
                                f"reference system: <code>{report.reference}</code>.</p>")
    html.add_table([{"system": n, **{m: s.means[m] for m in metrics}} for n, s in report.systems.items()],
                   ["system", *metrics])
    html.add_bar_chart({n: s.means for n, s in report.systems.items()},
                       [m for m in KEY_METRICS if m in report.metrics] or metrics, "Systems compared")
    if curves := dim_curves(report, primary):
        html.add_section("Metric by embedding dimension")
        html.add_dim_curve(curves, primary, f"{primary} after Matryoshka truncation")
    if report.comparisons:
        html.add_section("Comparisons", "<p>Each system against the reference on the same queries: mean delta, "
                                        "paired t-test and randomisation-test p-values, effect size (Cohen's "
                                        "d<sub>z</sub>) and per-query wins/losses/ties.</p>")
        html.add_table([{
            "system": c.system, "metric": c.metric, "reference": c.reference_mean, "system score": c.system_mean,
            "delta": c.delta, "p (t-test)": c.p_ttest, "p (randomisation)": c.p_randomization,
            "effect size": "-" if c.effect_size is None else f"{c.effect_size:.3f}",
            "wins/losses/ties": f"{c.wins}/{c.losses}/{c.ties}",
        } for c in report.comparisons], highlight_max=False)
        ref = report.systems[report.reference].evaluation.per_query[primary]
        for name, s in list(report.systems.items())[1:]:
            deltas = [s.evaluation.per_query[primary][q] - ref[q] for q in ref]
            html.add_winloss(deltas, name, report.reference, primary)
    if len(report.metrics) > len(metrics):
        html.add_section("All metrics")
        html.add_table([{"metric": m, **{n: s.means[m] for n, s in report.systems.items()}} for m in report.metrics],
                       ["metric", *report.systems], highlight_max=False)
    notes = list(report.warnings)
    if report.no_relevant:
        shown = ", ".join(report.no_relevant[:20]) + (" ..." if len(report.no_relevant) > 20 else "")
        notes.append(f"{len(report.no_relevant)} judged queries have no relevant document and were not scored: {shown}")
    if notes:
        html.add_section("Data notes")
        html.add_list(notes)
    return html


def evaluation_html(report: EvaluationReport) -> HtmlReport:
    """A complete report for ``embedtune eval --html``."""
    return add_evaluation(HtmlReport(f"Evaluation: {report.dataset} ({report.split})",
                                     f"{report.n_queries:,} queries, {len(report.systems)} systems"), report)


def baseline_html(baseline: BaselineReport, max_failures: int = 25) -> HtmlReport:
    """``baseline.html``: verdict first, then the numbers behind it and examples of failed queries."""
    v, ev = baseline.verdict, baseline.evaluation
    html = HtmlReport(f"Baseline: {ev.dataset} ({ev.split})",
                      f"model {baseline.model}; {ev.n_queries:,} queries; verdict: fine-tuning {v.label} to pay")
    html.add_section("Verdict", f"<p><strong>{_esc(v.headline)}</strong></p>")
    html.add_list(v.findings)
    if v.next_steps:
        html.add_section("Next steps")
        html.add_list(v.next_steps)
    html.add_section("Where queries fail", f"<p>Per system: share of queries with a relevant document in the "
                                           f"top 10, at rank 11-100 (ranking failure), or not in the top 100 "
                                           f"(retrieval failure). Ranking ceiling (perfect reordering of "
                                           f"{_esc(baseline.ceiling_pool)}'s top 100): NDCG@10 "
                                           f"{baseline.ceiling:.3f}.</p>")
    html.add_table([{"system": n, **o} for n, o in baseline.outcomes.items()], highlight_max=False)
    add_evaluation(html, ev)
    if baseline.failures:
        html.add_section(f"Failed queries of {baseline.target}",
                         f"<p>{len(baseline.failures)} queries in all (every one is in baseline.json); the first "
                         f"{min(max_failures, len(baseline.failures))}, retrieval failures first.</p>")
        html.add_table([{
            "query": f.query, "kind": f.kind, "first relevant rank": f.first_relevant_rank or "> 100",
            "gold document": "; ".join(g["text"] for g in f.gold[:2]),
            "retrieved instead": "; ".join(f"{r['text']} ({r['score']})" for r in f.retrieved),
            "found in top 10 by": ", ".join(f.found_by) or "-",
        } for f in baseline.failures[:max_failures]], highlight_max=False)
    return html


def print_baseline(baseline: BaselineReport, console: Console | None = None) -> None:
    """The metric table, then the verdict in plain words."""
    console = console or make_console()
    print_evaluation(baseline.evaluation, console, TERMINAL_METRICS)
    v = baseline.verdict
    colour = {"likely": "green", "possible": "yellow", "unlikely": "red"}[v.label]
    console.print(f"\n[bold {colour}]{v.headline}[/]", highlight=False)
    for f in v.findings:
        console.print(f"  • {f}", highlight=False, soft_wrap=True)
    for s in v.next_steps:
        console.print(f"  → {s}", highlight=False, soft_wrap=True)

