"""Report figures as PNG bytes, drawn with matplotlib's Agg backend (no display, no global pyplot state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np

_PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")


def new_figure(width: float = 7.0, height: float = 3.6):
    """A matplotlib figure on the Agg canvas (no display, thread-safe: no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig) -> bytes:
    """The figure as PNG bytes, for inlining in a report."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def bar_chart(values: Mapping[str, Mapping[str, float]], metrics: Sequence[str], title: str = "") -> bytes:
    """Grouped bars: one group per metric, one bar per system (``values[system][metric]``)."""
    systems = list(values)
    fig = new_figure(max(6.0, 1.6 * len(metrics) + 0.35 * len(systems)), 3.8)
    ax = fig.add_subplot()
    width = 0.8 / max(len(systems), 1)
    x = np.arange(len(metrics))
    for i, system in enumerate(systems):
        heights = [values[system].get(m, 0.0) for m in metrics]
        bars = ax.bar(x + i * width - 0.4 + width / 2, heights, width, label=system, color=_PALETTE[i % len(_PALETTE)])
        ax.bar_label(bars, fmt="%.3f", fontsize=6, rotation=90, padding=2)
    ax.set_xticks(x, metrics)
    ax.set_ylim(0, 1.12)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return to_png(fig)


def dim_curve(curves: Mapping[str, Mapping[int, float]], metric: str, title: str = "") -> bytes:
    """Metric against embedding dimension, one line per model (``curves[model][dim]``)."""
    fig = new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    for i, (label, points) in enumerate(curves.items()):
        dims = sorted(points)
        ax.plot(dims, [points[d] for d in dims], marker="o", label=label, color=_PALETTE[i % len(_PALETTE)])
        for d in dims:
            ax.annotate(f"{points[d]:.3f}", (d, points[d]), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=7)
    all_dims = sorted({d for points in curves.values() for d in points})
    if all_dims and all_dims[0] > 0:
        ax.set_xscale("log", base=2)
        ax.set_xticks(all_dims, [str(d) for d in all_dims])
    ax.set_xlabel("dimensions")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return to_png(fig)


def winloss_histogram(deltas: Sequence[float], system: str, reference: str, metric: str, title: str = "") -> bytes:
    """Histogram of per-query ``system - reference`` deltas, with win/loss/tie counts in the legend."""
    d = np.asarray(deltas, dtype=float)
    wins, losses = int(np.sum(d > 1e-12)), int(np.sum(d < -1e-12))
    fig = new_figure(6.0, 3.4)
    ax = fig.add_subplot()
    lim = max(float(np.max(np.abs(d))) if len(d) else 1.0, 1e-6)
    bins = np.linspace(-lim, lim, 41)
    ax.hist(d[d > 1e-12], bins=bins, color="#55A868", label=f"wins ({wins})")
    ax.hist(d[d < -1e-12], bins=bins, color="#C44E52", label=f"losses ({losses})")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"per-query {metric} delta ({len(d) - wins - losses} ties at 0 not shown)")
    ax.set_ylabel("queries")
    ax.set_title(title or f"{system}\nvs {reference}", fontsize=9)
    ax.legend(fontsize=7)
    return to_png(fig)
