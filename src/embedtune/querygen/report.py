"""``querygen_report.json``: what was generated, by which source, what each filter dropped, and what it cost."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from embedtune.querygen.filters import FILTERS
from embedtune.querygen.query import Query
from embedtune.progress import make_console


def group_of(query: Query) -> str:
    """``backend/style``, the unit every count is broken down by (e.g. ``local/question``, ``offline/title``)."""
    return f"{query.backend}/{query.style}"


class Estimate(BaseModel):
    """What an LLM run will cost, computed before it starts (tokens estimated as characters / 4)."""

    calls: int = 0
    cached_calls: int = 0
    new_calls: int = 0
    queries_asked: int = 0
    prompt_tokens: int = Field(default=0, description="estimated, new calls only")
    completion_tokens: int = Field(default=0, description="estimated, new calls only")
    cost_usd: float | None = None
    seconds: float | None = Field(default=None, description="local backends: rough time at ~1 query/s on 2 cores")


class LLMStats(BaseModel):
    """How the LLM part of a run went; token counts come from the endpoint's ``usage`` field."""

    backend: str
    model: str
    chunks: int = Field(description="chunks given to the LLM (the sample within --max-chunks)")
    calls: int = 0
    cached_calls: int = 0
    new_calls: int = 0
    failed_calls: int = Field(default=0, description="gave up after bounded retries; a rerun retries them")
    errors: dict[str, int] = Field(default_factory=dict, description="last error of each failed call, counted")
    retries: int = 0
    short_replies: int = Field(default=0, description="calls that returned fewer queries than asked")
    queries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0


class QuerygenReport(BaseModel):
    """Counts per ``backend/style`` group: candidates, drops per filter, kept."""

    chunks: int
    llm: LLMStats | None = None
    estimate: Estimate | None = None
    signals: list[str] = Field(default_factory=list)
    candidates: dict[str, int] = Field(default_factory=dict)
    dropped: dict[str, dict[str, int]] = Field(default_factory=dict, description="filter -> group -> count")
    kept: dict[str, int] = Field(default_factory=dict)
    round_trip: str = ""
    contamination: list[dict[str, str]] = Field(
        default_factory=list, description="dropped queries and the eval query each nearly copies"
    )
    seconds: float = 0.0
    reused: bool = Field(False, exclude=True, description="true when generate was current and did nothing")

    @classmethod
    def count(
        cls, candidates: Sequence[Query], kept: Sequence[Query], rejected: Sequence[tuple[Query, str]], **fields
    ) -> QuerygenReport:
        dropped: dict[str, Counter[str]] = defaultdict(Counter)
        for query, reason in rejected:
            dropped[reason][group_of(query)] += 1
        return cls(
            candidates=dict(sorted(Counter(map(group_of, candidates)).items())),
            dropped={f: dict(sorted(dropped[f].items())) for f in FILTERS if f in dropped},
            kept=dict(sorted(Counter(map(group_of, kept)).items())),
            **fields,
        )


def print_report(report: QuerygenReport, console: Console | None = None) -> None:
    """A table of candidates, drops by filter and kept per group, then the LLM's usage and cost."""
    console = console or make_console()
    filters = list(report.dropped)
    table = Table(title=f"Synthetic queries over {report.chunks:,} chunks")
    table.add_column("source")
    table.add_column("candidates", justify="right")
    for f in filters:
        table.add_column(f.replace("_", " "), justify="right", style="red")
    table.add_column("kept", justify="right", style="green")
    table.add_column("kept %", justify="right")
    for group, n in report.candidates.items():
        kept = report.kept.get(group, 0)
        table.add_row(
            group, f"{n:,}", *(f"{report.dropped[f].get(group, 0):,}" for f in filters),
            f"{kept:,}", f"{100 * kept / n:.0f}%" if n else "-",
        )
    console.print(table)
    if report.round_trip:
        console.print(f"round trip: {report.round_trip}")
    if (llm := report.llm) is not None:
        cost = f", ${llm.cost_usd:.4f}" if llm.cost_usd is not None else ""
        console.print(
            f"{llm.backend} {llm.model}: {llm.chunks:,} chunks, {llm.calls:,} calls ({llm.cached_calls:,} cached, "
            f"{llm.new_calls:,} new, {llm.failed_calls:,} failed, {llm.retries:,} retries), "
            f"{llm.prompt_tokens:,} prompt + {llm.completion_tokens:,} completion tokens{cost}, {llm.seconds:.0f}s"
        )
        if llm.failed_calls:
            console.print(f"[yellow]{llm.failed_calls} calls failed ({llm.errors}); rerun to retry only those[/]")
    for hit in report.contamination[:5]:
        console.print(f"[yellow]contamination[/]: {hit['query']!r} ~ eval {hit['eval_query']!r}")
