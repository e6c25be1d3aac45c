"""``embedtune generate``: synthetic training queries for the workspace's chunks (``queries.jsonl``)."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from embedtune.cli.options import RayAddressOpt, make_runner
from embedtune.errors import EmbedtuneError
from embedtune.models.registry import DEFAULT_GENERATOR, DEFAULT_MODEL
from embedtune.workspace import Workspace, default_workspace
from embedtune.progress import make_console

_SIGNALS = "title,heading,inverse_cloze,keyphrase"


def _split(value: str) -> list[str]:
    return [] if value.strip().lower() == "none" else [v.strip() for v in value.split(",") if v.strip()]


def generate_command(
    workspace: Path = typer.Option(default_workspace(), "--workspace", "-w", help="Run folder holding chunks.jsonl."),
    backend: str = typer.Option("local", "--backend", "-b", help="LLM: 'local' (a model folder or GGUF), 'openai' (any OpenAI-compatible endpoint), or 'none' (offline signals only)."),
    model: str | None = typer.Option(None, "--model", "-m", help=f"Generator: local default {DEFAULT_GENERATOR}; the served model name for openai."),
    per_chunk: int = typer.Option(2, "--per-chunk", "-n", min=1, help="LLM queries per chunk."),
    max_chunks: int = typer.Option(1000, "--max-chunks", min=0, help="LLM budget: a random sample of this many chunks (0 = all); offline signals cover every chunk."),
    styles: str = typer.Option("question", "--styles", help="Comma-separated prompt styles, cycled over chunks: question, claim, keyword, detailed, paraphrase, multihop."),
    signals: str = typer.Option(_SIGNALS, "--signals", help="Comma-separated offline signals, or 'none'."),
    domain: str = typer.Option("", "--domain", help="What the documents are about, for the prompt (e.g. 'internal HR policies')."),
    examples: Path | None = typer.Option(None, "--examples", help="Real user queries (queries.jsonl or one per line) as few-shot examples."),
    prompt_dir: Path | None = typer.Option(None, "--prompt-dir", help="Templates overriding the packaged ones: <dir>/list/<style>.txt (openai), <dir>/single/<style>.txt (local)."),
    base_url: str = typer.Option("", "--base-url", help="OpenAI-compatible API root, e.g. https://api.openai.com/v1 or http://localhost:11434/v1."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Environment variable holding the API key (never logged)."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Requests in flight at once."),
    rpm: float | None = typer.Option(None, "--rpm", min=0.01, help="Cap on requests per minute."),
    max_attempts: int = typer.Option(5, "--max-attempts", min=1, help="Tries per request (429, 5xx, timeouts, bad replies)."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help="Seconds per request."),
    price_in: float = typer.Option(0.0, "--price-in", min=0, help="$ per 1M prompt tokens, for the cost estimate."),
    price_out: float = typer.Option(0.0, "--price-out", min=0, help="$ per 1M completion tokens."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Local model: prompts per batch."),
    eval_queries: Path | None = typer.Option(None, "--eval-queries", help="Eval queries (BEIR queries.jsonl); near-identical generated ones are dropped."),
    labelled: Path | None = typer.Option(None, "--labelled", help="Real training queries you already have: a BEIR folder (queries.jsonl + qrels/<split>.tsv) or a JSONL of {query, doc_id}."),
    labelled_split: str = typer.Option("train", "--labelled-split", help="qrels split of a --labelled BEIR folder."),
    round_trip: str = typer.Option("bm25", "--round-trip", help="Keep a query only if 'bm25' or 'dense' (base model) ranks its passage in the top-k; 'none' to skip."),
    round_trip_k: int = typer.Option(10, "--round-trip-k", min=1, help="k of the round-trip test."),
    near_duplicate: float = typer.Option(0.95, "--near-duplicate", min=0, max=1, help="Drop a query this cosine-similar to a kept one (0: off)."),
    filter_model: str | None = typer.Option(None, "--filter-model", help=f"Embedding model for near-duplicate and contamination checks; default: the workspace's base model (from ingest), else {DEFAULT_MODEL}; 'none': lexical checks only."),
    seed: int = typer.Option(0, "--seed"),
    sample: int = typer.Option(0, "--sample", min=0, help="Only show N chunks with their queries and filter verdicts; writes no queries.jsonl."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the calls, tokens and cost a run would take, then stop."),
    force: bool = typer.Option(False, "--force", help="Run even if the stage is current (cached LLM calls are still reused)."),
    ray_address: RayAddressOpt = None,
) -> None:
    """Write synthetic (query, chunk) pairs: LLM questions on a sample of chunks plus offline signals on all."""
    from embedtune.querygen import (
        FilterConfig, GenerateConfig, LocalOptions, OpenAIOptions, estimate_generation, generate_queries,
        make_backend, preview_queries, print_report,
    )
    from embedtune.querygen.estimate import format_estimate

    try:
        config = GenerateConfig(
            backend=backend, model=model, styles=_split(styles), per_chunk=per_chunk, max_chunks=max_chunks or None,
            signals=_split(signals), domain=domain, examples=examples, prompt_dir=prompt_dir, seed=seed,
            eval_queries=eval_queries, labelled=labelled, labelled_split=labelled_split,
            filters=FilterConfig(
                round_trip=round_trip, round_trip_k=round_trip_k,
                near_duplicate=near_duplicate or None,
                encoder=_filter_model(filter_model, workspace),
            ),
            openai=OpenAIOptions(
                base_url=base_url, api_key_env=api_key_env, concurrency=concurrency, requests_per_minute=rpm,
                max_attempts=max_attempts, timeout=timeout, price_in=price_in, price_out=price_out,
            ),
            local=LocalOptions(batch_size=batch_size),
        )
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(map(str, err["loc"]))
        raise EmbedtuneError(f"invalid generate option {where}: {err['msg'].removeprefix('Value error, ')}") from None
    runner = make_runner(ray_address=ray_address)
    out = make_console()
    if dry_run:
        llm = make_backend(config)
        est = estimate_generation(workspace, config, backend=llm)
        out.print(format_estimate(est, llm) if est and llm else "backend 'none': offline signals only, no LLM calls")
        return
    if sample:
        _print_preview(preview_queries(workspace, config, sample, runner=runner), out)
        return
    print_report(generate_queries(workspace, config, force=force, runner=runner), out)


def _filter_model(name: str | None, workspace: Path) -> str | None:
    """The model named, or the base model the workspace's chunks were made for."""
    if name is not None:
        return None if name.lower() == "none" else name
    ingest = Workspace(workspace).stage_record("ingest") if workspace.exists() else None
    return str(ingest.params.get("model") or DEFAULT_MODEL) if ingest else DEFAULT_MODEL


def _print_preview(rows, console: Console) -> None:
    table = Table(title="Chunks and their candidate queries", show_lines=True)
    table.add_column("chunk", ratio=1, overflow="fold")
    table.add_column("queries (verdict, source)", ratio=1, overflow="fold")
    for row in rows:
        text = row.chunk.text if len(row.chunk.text) <= 500 else row.chunk.text[:500] + " …"
        lines = [
            f"[{'green' if verdict == 'kept' else 'red'}]{'✓' if verdict == 'kept' else '✗ ' + verdict}[/] "
            f"[dim]{q.backend}/{q.style}[/] {escape(q.text)}"
            for q, verdict in row.queries
        ]
        table.add_row(f"[bold]{escape(row.chunk.id)}[/]\n{escape(text)}", "\n".join(lines) or "[dim](none)[/]")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
