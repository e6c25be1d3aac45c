"""``mining_report.json``: what mining saw, removed (and why), relabelled and produced; its table and HTML section.

The HTML section (score histograms, the threshold curve, every count) goes through the shared
:class:`~embedtune.report.HtmlReport` builder, so the run report can embed it with :func:`add_mining`.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from embedtune.mining.calibration import Calibration
from embedtune.report import HtmlReport
from embedtune.report.plots import new_figure, to_png
from embedtune.progress import make_console

HIST_BINS = 40


class Histogram(BaseModel):
    """Counts of positive, candidate and negative scores over shared bin edges."""

    edges: list[float] = Field(default_factory=list)
    counts: dict[str, list[int]] = Field(default_factory=dict)

    @classmethod
    def of(cls, series: dict[str, np.ndarray]) -> Histogram:
        finite = {k: v[np.isfinite(v)] for k, v in series.items()}
        values = np.concatenate([v for v in finite.values() if len(v)] or [np.zeros(0)])
        if not len(values):
            return cls()
        lo, hi = float(values.min()), float(values.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, HIST_BINS + 1)
        return cls(
            edges=[round(float(e), 5) for e in edges],
            counts={k: np.histogram(v, bins=edges)[0].tolist() for k, v in finite.items()},
        )


class MiningReport(BaseModel):
    """Settings, counts, calibration and score distributions of one mining run."""

    mode: Literal["dense", "bm25"]
    model: str | None = Field(None, description="mining model (None for BM25)")
    model_hash: str | None = None
    cross_encoder: str | None = None
    source: str = Field(description="'workspace' (chunks.jsonl + train_pairs.jsonl) or 'beir:<name>/<split>'")
    config: dict[str, Any] = Field(description="settings as requested")
    effective: dict[str, float | None] = Field(description="filter values actually used (after --auto-threshold)")
    reference: str = Field(description="which positive score the filters compare with, and why")
    queries: int = 0
    rows: int = Field(0, description="(query, positive) pairs, one output row each")
    corpus: int = 0
    candidates_seen: int = Field(0, description="per row: retrieved candidates plus known positives among them")
    removed: dict[str, int] = Field(default_factory=dict, description="candidates removed, by the first rule that did")
    survivors: int = Field(0, description="candidates left for sampling after the filters")
    ce_checked: int = Field(0, description="candidates the cross-encoder read (offered as negatives)")
    relabelled: int = Field(0, description="candidates the cross-encoder found relevant, kept as extra positives")
    negatives: int = 0
    rows_short: int = Field(0, description="rows with fewer negatives than requested (kept; the trainer tops up)")
    rows_without_negatives: int = 0
    queries_short: int = 0
    calibration: Calibration
    scores: dict[str, dict[str, int | float]] = Field(
        default_factory=dict, description="quantiles of positive / candidate / negative scores"
    )
    histogram: Histogram = Field(default_factory=Histogram)
    cache_hit: bool | None = Field(None, description="corpus embeddings read from the cache (dense only)")
    seconds: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    reused: bool = Field(False, exclude=True, description="true when mining was current and did nothing")

    @classmethod
    def load(cls, path: str | Path) -> MiningReport:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def count_rows(self) -> list[tuple[str, int, str]]:
        """(what, count, share of candidates seen) in pipeline order, for tables."""
        seen = max(self.candidates_seen, 1)
        out = [("candidates seen", self.candidates_seen, "")]
        for name, n in self.removed.items():
            out.append((f"removed: {name}", n, f"{n / seen:.1%}"))
        if self.cross_encoder is not None:
            out.append(("cross-encoder: checked", self.ce_checked, f"{self.ce_checked / seen:.1%}"))
            out.append(("cross-encoder: relabelled as positives", self.relabelled, f"{self.relabelled / seen:.1%}"))
        out.append(("survivors", self.survivors, f"{self.survivors / seen:.1%}"))
        out.append(("negatives written", self.negatives, f"{self.negatives / seen:.1%}"))
        return out


def print_mining_summary(report: MiningReport, console: Console | None = None) -> None:
    """A short table: counts per rule, short rows, and the calibration's verdict."""
    console = console or make_console()
    what = "BM25" if report.mode == "bm25" else report.model
    table = Table(title=f"Mining ({what}): {report.rows:,} rows from {report.queries:,} queries over "
                        f"{report.corpus:,} passages", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_column("of seen", justify="right")
    for name, n, share in report.count_rows():
        table.add_row(name, f"{n:,}", share)
    short = f"{report.rows_short / max(report.rows, 1):.1%} of rows"
    table.add_row("rows short of negatives", f"{report.rows_short:,}", short)
    console.print(table)
    console.print(report.calibration.explanation, highlight=False)
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)


def histogram_png(report: MiningReport) -> bytes:
    """Score densities of positives, all retrieved candidates and the negatives kept, with the filter ceiling."""
    h = report.histogram
    fig = new_figure(6.5, 3.4)
    ax = fig.add_subplot()
    edges = np.asarray(h.edges)
    colours = {"positive": "#55A868", "candidate": "#8C8C8C", "negative": "#C44E52"}
    for name, counts in h.counts.items():
        c = np.asarray(counts, dtype=float)
        if c.sum():
            ax.stairs(c / c.sum() / np.diff(edges), edges, label=f"{name} ({int(c.sum()):,})",
                      color=colours.get(name), fill=name == "candidate", alpha=0.35 if name == "candidate" else 1.0)
    p50 = report.scores.get("positive", {}).get("p50")
    pct = report.effective.get("percpos")
    if p50 is not None and pct is not None:
        ax.axvline(p50 - abs(p50) * (1 - pct), color="black", linestyle="--", linewidth=0.8,
                   label=f"percpos {pct:g} x median positive")
    ax.set_xlabel("BM25 score" if report.mode == "bm25" else "cosine similarity")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return to_png(fig)


def curve_png(cal: Calibration, target: float | None = None) -> bytes:
    """Fraction of candidates removed and estimated false-negative rate against the tuned filter's value."""
    fig = new_figure(6.5, 3.2)
    ax = fig.add_subplot()
    ax.plot(cal.grid, cal.removed_fraction, label="candidates removed", color="#4C72B0")
    if cal.false_negative_rate:
        ax.plot(cal.grid, cal.false_negative_rate, label=f"est. false-negative rate ({cal.estimate_source})",
                color="#C44E52")
    if target is not None and cal.false_negative_rate:
        ax.axhline(target, color="#C44E52", linestyle=":", linewidth=0.8, label=f"target rate {target:.0%}")
    if cal.chosen is not None:
        ax.axvline(cal.chosen, color="black", linestyle="--", linewidth=0.8, label=f"used: {cal.chosen:g}")
    ax.set_xlabel(cal.tuned or "")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return to_png(fig)


def add_mining(html: HtmlReport, report: MiningReport) -> HtmlReport:
    """Append the mining section: settings, counts, calibration, histograms."""
    cal = report.calibration
    eff = ", ".join(f"{k} {v:g}" for k, v in report.effective.items() if v is not None) or "none"
    html.add_section(
        "Hard-negative mining",
        f"<p>{report.rows:,} (query, positive) rows from {report.queries:,} queries, candidates from the top "
        f"{report.config.get('range_max')} of {report.corpus:,} passages by "
        f"<code>{escape(report.model or 'BM25')}</code>; filters used: {escape(eff)}; "
        f"{report.config.get('num_negatives')} negatives per row ({escape(str(report.config.get('sampling')))}).</p>"
        f"<p>{escape(report.reference)}</p>",
    )
    html.add_table([{"": name, "count": n, "of seen": share} for name, n, share in report.count_rows()],
                   ["", "count", "of seen"], title="What happened to the candidates", highlight_max=False)
    html.add_paragraph(
        f"{report.rows_short:,} rows ({report.rows_short / max(report.rows, 1):.1%}) got fewer negatives than "
        f"requested ({report.rows_without_negatives:,} none), across {report.queries_short:,} queries; they are kept "
        f"and the trainer tops them up with random passages."
    )
    html.add_section("Calibration", f"<p>{escape(cal.explanation)}</p>")
    html.add_table(
        [{"scores": name, **{k: v for k, v in s.items() if k != "count"}, "count": s.get("count", 0)}
         for name, s in {"positive": cal.positive, "candidate": cal.candidate, "top candidate / positive":
                         cal.hardest_ratio, "negative kept": report.scores.get("negative", {})}.items()
         if s.get("count")],
        title="Score quantiles", highlight_max=False,
    )
    if report.histogram.edges:
        html.add_image(histogram_png(report), alt="score histograms")
    if cal.grid:
        html.add_image(curve_png(cal, report.config.get("max_false_negative_rate")), alt=f"{cal.tuned} curve")
    if report.warnings or report.notes:
        html.add_list([*report.warnings, *report.notes])
    return html


def mining_html(report: MiningReport) -> HtmlReport:
    """A standalone HTML report of one mining run."""
    return add_mining(HtmlReport("Hard-negative mining", report.source), report)
