"""``ingest_report.json``: what was read, skipped (and why), dropped and produced; and its summary table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from embedtune.progress import make_console



class TokenStats(BaseModel):
    min: int = 0
    mean: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    max: int = 0

    @classmethod
    def of(cls, counts: list[int]) -> TokenStats:
        if not counts:
            return cls()
        a = np.asarray(counts)
        p50, p95 = np.percentile(a, [50, 95])
        return cls(min=int(a.min()), mean=round(float(a.mean()), 1), p50=float(p50), p95=float(p95), max=int(a.max()))


class IngestReport(BaseModel):
    """Counts and settings of one ingest run (token counts include the title line and special tokens)."""

    model: str
    max_tokens: int = Field(description="the model's sequence limit; no chunk exceeds it")
    chunk_tokens: int
    overlap_tokens: int
    include_title: bool
    min_tokens: int
    files_seen: int = 0
    files_ingested: int = 0
    files_skipped: dict[str, int] = Field(default_factory=dict, description="reason -> files")
    records_skipped: dict[str, int] = Field(default_factory=dict, description="reason -> JSONL lines")
    messages: list[str] = Field(default_factory=list, description="one line per skipped file or record")
    encodings: dict[str, str] = Field(default_factory=dict, description="file -> encoding, for non-UTF-8 files")
    documents: int = 0
    chunks: int = 0
    dropped: dict[str, int] = Field(default_factory=dict, description="empty, too short, exact / near duplicate")
    truncated: int = Field(0, description="documents cut at max_document_chars")
    tokens: TokenStats = Field(default_factory=TokenStats)
    seconds: float = 0.0
    reused: bool = Field(False, exclude=True, description="true when ingest was current and did nothing")

    @classmethod
    def load(cls, path: Path) -> IngestReport:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def _by_reason(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def print_ingest_summary(report: IngestReport, console: Console | None = None) -> None:
    """Print the short summary table of an ingest report (also used by ``embedtune run``)."""
    table = Table(title="Ingest", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    skipped = sum(report.files_skipped.values())
    files = f"{report.files_ingested} ingested of {report.files_seen}"
    if skipped:
        files += f", [yellow]{skipped} skipped[/]: {_by_reason(report.files_skipped)}"
    table.add_row("files", files)
    if report.records_skipped:
        table.add_row("records skipped", f"[yellow]{_by_reason(report.records_skipped)}[/]")
    if report.encodings:
        table.add_row("not UTF-8", ", ".join(f"{Path(f).name} ({enc})" for f, enc in report.encodings.items()))
    cut = f"  ([yellow]{report.truncated} cut at the size cap[/])" if report.truncated else ""
    table.add_row("documents", f"{report.documents:,}{cut}")
    dropped = {k: v for k, v in report.dropped.items() if v}
    chunks = f"[bold green]{report.chunks:,}[/]" + (f"  (dropped {_by_reason(dropped)})" if dropped else "")
    table.add_row("chunks", chunks)
    t = report.tokens
    stats = f"min {t.min}, mean {t.mean:g}, p50 {t.p50:g}, p95 {t.p95:g}, max {t.max} (limit {report.max_tokens})"
    table.add_row("tokens/chunk", stats)
    title = "title + " if report.include_title else ""
    table.add_row(
        "chunking", f"{title}{report.chunk_tokens} tokens, overlap {report.overlap_tokens}; tokenizer {report.model}"
    )
    (console or make_console()).print(table)
