"""How a shadow comparison is shown: a rich table on the terminal and a self-contained HTML report."""

from __future__ import annotations

from html import escape

from rich.console import Console
from rich.table import Table

from embedtune.index.base import Hit
from embedtune.index.shadow import QueryShadow, ShadowResult
from embedtune.report.html import HtmlReport
from embedtune.retrieval.dense import model_display_name
from embedtune.progress import make_console

SNIPPET = 160  # characters of a result's text shown per row
DIFFERENT_CHUNKS = ("the two versions index different chunks (another corpus or chunking): overlap and rank change "
                    "compare chunk ids, so they understate agreement; the document-level quality is comparable")


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _side(result: ShadowResult, which: str) -> str:
    meta = result.live if which == "live" else result.candidate
    return f"{meta.name} ({model_display_name(meta.model_path)}, {meta.dim}d)"


def summary_rows(result: ShadowResult) -> list[dict]:
    """The agreement measures as (measure, value, meaning) rows."""
    k = result.k
    return [
        {"measure": f"overlap@{k}", "value": result.overlap, "meaning": f"share of the top-{k} both return"},
        {"measure": f"jaccard@{k}", "value": result.jaccard, "meaning": "intersection over union of the top-k sets"},
        {"measure": "mean rank change", "value": result.rank_change,
         "meaning": f"how far the live top-{k} move in the candidate (absent: rank {result.depth + 1})"},
        {"measure": "top-1 changed", "value": result.top1_changed, "meaning": "share of queries"},
    ]


def quality_rows(result: ShadowResult) -> list[dict]:
    return [
        {"metric": c.metric, "live": c.reference_mean, "candidate": c.system_mean, "delta": c.delta,
         "p (t-test)": _p(c.p_ttest), "p (randomisation)": _p(c.p_randomization),
         "wins/losses/ties": f"{c.wins}/{c.losses}/{c.ties}"}
        for c in result.comparisons
    ]


def print_shadow(result: ShadowResult, console: Console | None = None) -> None:
    console = console or make_console()
    table = Table(title=f"shadow: {_side(result, 'candidate')} vs live {_side(result, 'live')}, "
                        f"{result.n_queries:,} queries")
    for col in ("measure", "value", "meaning"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for row in summary_rows(result):
        table.add_row(row["measure"], f"{row['value']:.3f}", row["meaning"])
    console.print(table)
    if not result.same_chunks:
        console.print(f"[yellow]note:[/] {DIFFERENT_CHUNKS}", highlight=False)
    if result.comparisons:
        quality = Table(title="quality on the judged queries (documents ranked by their best chunk)")
        rows = quality_rows(result)
        for col in rows[0]:
            quality.add_column(col, justify="left" if col == "metric" else "right")
        for row in rows:
            quality.add_row(*(f"{v:+.4f}" if k == "delta" else f"{v:.4f}" if isinstance(v, float) else str(v)
                              for k, v in row.items()))
        console.print(quality)


def _hits_html(hits: list[Hit], other: set[str]) -> str:
    items = []
    for h in hits:
        text = h.text if len(h.text) <= SNIPPET else h.text[:SNIPPET] + "…"
        mark = "" if h.id in other else ' style="background:#fff3d6"'  # only in this version's top-k
        items.append(f"<li{mark}><code>{escape(h.id)}</code> {h.score:.3f}<br>{escape(text)}</li>")
    return "<ol>" + "".join(items) + "</ol>"


def _example_html(q: QueryShadow, result: ShadowResult) -> str:
    live_ids, cand_ids = {h.id for h in q.live}, {h.id for h in q.candidate}
    return (
        f"<h3>{escape(q.query_id)}: {escape(q.query)}</h3>"
        f"<p>overlap {q.overlap:.2f}, mean rank change {q.rank_change:.1f}"
        f"{', top-1 changed' if q.top1_changed else ''}</p>"
        f'<table><tr><th class="text">live: {escape(result.live.name)}</th>'
        f'<th class="text">candidate: {escape(result.candidate.name)}</th></tr>'
        f'<tr><td class="text">{_hits_html(q.live, cand_ids)}</td>'
        f'<td class="text">{_hits_html(q.candidate, live_ids)}</td></tr></table>'
    )


def shadow_html(result: ShadowResult, examples: int = 10) -> HtmlReport:
    """Summary, quality with significance (when judged), and the queries whose results changed most."""
    report = HtmlReport(
        f"Shadow comparison: {result.candidate.name} vs {result.live.name}",
        f"{result.n_queries:,} queries, top {result.k}; live {_side(result, 'live')}, "
        f"candidate {_side(result, 'candidate')}",
    )
    report.add_section("Agreement")
    report.add_table(summary_rows(result), ["measure", "value", "meaning"], number_format="{:.3f}",
                     highlight_max=False)
    if not result.same_chunks:
        report.add_paragraph(f"Note: {DIFFERENT_CHUNKS}.")
    if result.comparisons:
        report.add_section("Quality on judged queries",
                           "<p>Documents ranked by their best chunk; p-values of paired tests over queries.</p>")
        report.add_table(quality_rows(result), highlight_max=False)
    changed = result.changed(examples)
    body = (f"<p>{len(changed)} of the queries whose results changed most; results only one version returns "
            "in its top-k are highlighted.</p>" if changed else "<p>No query's results changed.</p>")
    report.add_section("Queries whose results changed", body + "".join(_example_html(q, result) for q in changed))
    return report
