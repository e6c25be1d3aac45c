"""Self-contained HTML reports (tables, bar charts, dimension curves, win/loss histograms) shared by all stages."""

from embedtune.report.html import HtmlReport

__all__ = ["HtmlReport"]
