"""One self-contained HTML report (inline CSS, figures as base64 PNG): open it anywhere, mail it, archive it.

A small builder every stage reuses::

    report = HtmlReport("Baseline: scifact (test)")
    report.add_section("Verdict", "<p>...</p>")
    report.add_table(rows, columns=["system", "ndcg@10"], title="Metrics")
    report.add_bar_chart({"bm25": {"ndcg@10": 0.66}}, ["ndcg@10"])
    report.save("baseline.html")

Text passed to ``add_paragraph``, ``add_list`` and table cells is escaped; ``add_section`` takes raw HTML.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from embedtune import __version__
from embedtune.report import plots
from embedtune.workspace.atomic import atomic_write

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd;
padding-bottom:.2em}h3{font-size:1.05em}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}th,td{border:1px solid #ddd;padding:.3em .6em;
text-align:right;vertical-align:top}th{background:#f4f4f4}td.text,th.text{text-align:left;max-width:34em}
td.best{font-weight:bold;background:#eef7ee}img{max-width:100%;margin:.5em 0}footer{color:#888;font-size:.8em;
margin-top:3em}code{background:#f4f4f4;padding:0 .2em}
"""


def _cell(value: Any, fmt: str) -> str:
    if isinstance(value, float):
        return fmt.format(value)
    return html.escape("" if value is None else str(value))


class HtmlReport:
    """Builder for a report: add blocks in order, then :meth:`render` or :meth:`save`. Methods chain."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title, self.subtitle = title, subtitle
        self._blocks: list[str] = []

    def add_section(self, title: str, body_html: str = "") -> HtmlReport:
        """A level-2 heading followed by raw HTML (trusted: escape user text yourself)."""
        self._blocks.append(f"<h2>{html.escape(title)}</h2>\n{body_html}")
        return self

    def add_paragraph(self, text: str) -> HtmlReport:
        self._blocks.append(f"<p>{html.escape(text)}</p>")
        return self

    def add_list(self, items: Sequence[str]) -> HtmlReport:
        self._blocks.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
        return self

    def add_table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        title: str | None = None,
        number_format: str = "{:.4f}",
        highlight_max: bool = True,
    ) -> HtmlReport:
        """A table of dict rows; numeric columns get their best (highest) value in bold when ``highlight_max``."""
        columns = list(columns or (rows[0].keys() if rows else []))
        best: dict[str, float] = {}
        if highlight_max and len(rows) > 1:
            for c in columns:
                nums = [r.get(c) for r in rows if isinstance(r.get(c), float)]
                if len(nums) == len(rows):
                    best[c] = max(nums)  # type: ignore[type-var]
        numeric = {c for c in columns if rows and all(isinstance(r.get(c), (int, float)) for r in rows)}
        head = "".join(f'<th class="{"" if c in numeric else "text"}">{html.escape(c)}</th>' for c in columns)
        body = []
        for r in rows:
            cells = []
            for c in columns:
                cls = [] if c in numeric else ["text"]
                if c in best and r.get(c) == best[c]:
                    cls.append("best")
                cells.append(f'<td class="{" ".join(cls)}">{_cell(r.get(c), number_format)}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        caption = f"<h3>{html.escape(title)}</h3>" if title else ""
        self._blocks.append(f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        return self

    def add_image(self, png: bytes, alt: str) -> HtmlReport:
        """A PNG embedded as base64."""
        data = base64.b64encode(png).decode("ascii")
        self._blocks.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')
        return self

    def add_bar_chart(
        self, values: Mapping[str, Mapping[str, float]], metrics: Sequence[str], title: str = ""
    ) -> HtmlReport:
        """Grouped bars of ``values[system][metric]`` for the given metrics."""
        return self.add_image(plots.bar_chart(values, metrics, title), alt=title or "bar chart")

    def add_dim_curve(self, curves: Mapping[str, Mapping[int, float]], metric: str, title: str = "") -> HtmlReport:
        """``metric`` against embedding dimension, one line per model (``curves[model][dim]``)."""
        return self.add_image(plots.dim_curve(curves, metric, title), alt=title or f"{metric} by dimension")

    def add_winloss(
        self, deltas: Sequence[float], system: str, reference: str, metric: str, title: str = ""
    ) -> HtmlReport:
        """Histogram of per-query deltas of ``system`` over ``reference``."""
        png = plots.winloss_histogram(deltas, system, reference, metric, title)
        return self.add_image(png, alt=title or f"{system} vs {reference}: per-query {metric}")

    def render(self) -> str:
        """The whole document as one string."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        sub = f'<p class="sub">{html.escape(self.subtitle)}</p>' if self.subtitle else ""
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>{html.escape(self.title)}</h1>{sub}\n" + "\n".join(self._blocks)
            + f"\n<footer>embedtune {__version__} · {stamp}</footer></body></html>\n"
        )

    def save(self, path: str | Path) -> Path:
        """Write the report atomically (a reader never sees half a file) and return its path."""
        target = Path(path)
        with atomic_write(target) as f:
            f.write(self.render())
        return target
