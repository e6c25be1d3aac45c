"""``embedtune index``: build index versions with a (tuned) model, shadow-compare, promote, roll back, status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.cli.options import InferenceOpt, RayAddressOpt, make_runner, quiet_libraries

from embedtune.errors import EmbedtuneError
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.workspace import default_workspace
from embedtune.progress import make_console

index_app = typer.Typer(
    name="index",
    help="Move a vector index onto a new model safely: build a version, shadow-compare, promote, roll back.",
    no_args_is_help=True,
)

StoreOpt = Annotated[str, typer.Option(
    "--store", "-s", help="Index store: a folder (LanceDB, or milvus-lite) or a Milvus server URL.")]


def _ingest_corpus(corpus: Path, workspace: Path, model: str) -> None:
    """Chunk ``corpus`` into ``workspace`` for ``model`` (a no-op when that ingest is already current)."""

    from embedtune.corpus import IngestConfig, ingest, print_ingest_summary

    report = ingest([corpus], workspace, IngestConfig(model=model))
    if not report.reused:
        print_ingest_summary(report, make_console(stderr=True))


@index_app.command("build")
def build(
    name: Annotated[str, typer.Option("--name", "-n", help="Version name (letters, digits, '_').")],
    store: StoreOpt,
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Model for the vectors: registry name, folder (e.g. a tuned train/model) or hub id.")
    ] = DEFAULT_MODEL,
    workspace: Annotated[Path | None, typer.Option(
        "--workspace", "-w", help="Run folder whose chunks.jsonl is indexed.")] = None,
    corpus: Annotated[Path | None, typer.Option(
        "--corpus", help="Documents to ingest first (into --workspace, or embedtune-runs/index-NAME).")] = None,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="lancedb (default for a new store) or milvus.")] = None,
    dim: Annotated[int | None, typer.Option(
        "--dim", help="Stored dimension, a Matryoshka prefix (default: the model's full dimension).")] = None,
    batch_size: Annotated[int, typer.Option(
        "--batch-size", help="Chunks embedded and appended per step: the unit of resume.")] = 256,
    inference: InferenceOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Re-embed the chunks into a new version; a killed build resumes where it stopped when rerun."""
    from embedtune.index import build_index
    from embedtune.index.store import check_backend

    if backend is not None:
        check_backend(backend)
    if workspace is None and corpus is None:
        raise EmbedtuneError("give the chunks to index: --workspace DIR (after `embedtune ingest`) or --corpus PATH")
    ws = workspace or default_workspace(f"index-{name}")
    if corpus is not None:
        _ingest_corpus(corpus, ws, model)
    runner = make_runner(inference, ray_address)
    quiet_libraries()
    result = build_index(store, name, model, ws, dim=dim, batch_size=batch_size, backend=backend, runner=runner)
    meta = result.meta
    typer.echo(
        f"version {meta.name!r}: {meta.count:,} chunks, {meta.dim} dims, complete "
        f"({result.embedded:,} embedded now, {result.already_stored:,} already stored"
        + (f", {result.chunks_per_s:,.0f} chunks/s" if result.embedded else "") + ")"
    )
    typer.echo(f"next: embedtune index shadow --store {store} --candidate {meta.name} --queries FILE")


@index_app.command("shadow")
def shadow(
    store: StoreOpt,
    candidate: Annotated[str, typer.Option("--candidate", "-c", help="The version that would be promoted.")],
    queries: Annotated[Path, typer.Option(
        "--queries", "-q", help="BEIR queries.jsonl (_id, text) or a text file with one query a line.")],
    live: Annotated[str, typer.Option("--live", help="The reference version (default: the live one).")] = "live",
    qrels: Annotated[Path | None, typer.Option(
        "--qrels", help="BEIR qrels TSV (query-id corpus-id score, document ids): adds NDCG@10, Recall@k, p-values.")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Results compared per query.")] = 10,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write an HTML report here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
) -> None:
    """Query both versions, each with its own model, and show how results and quality would change."""
    from embedtune.index import shadow_compare
    from embedtune.index.shadow_render import print_shadow, shadow_html
    from embedtune.cli.outputs import save_outputs

    quiet_libraries()
    result = shadow_compare(store, live, candidate, queries, qrels=qrels, k=k)
    print_shadow(result)
    save_outputs(json_out, lambda: result.to_json(per_query=True), html_out, lambda: shadow_html(result))


@index_app.command("promote")
def promote(
    name: Annotated[str, typer.Argument(help="The complete version to make live.")],
    store: StoreOpt,
) -> None:
    """Point the live alias at a complete version (atomic; the previous one is kept for rollback)."""
    from embedtune.index import open_store

    st = open_store(store)
    before = st.live_name()
    st.promote(name)
    if before == name:
        typer.echo(f"{name!r} is already live")
    else:
        typer.echo(f"live: {name!r} (was {before!r})" if before else f"live: {name!r}")


@index_app.command("rollback")
def rollback(store: StoreOpt) -> None:
    """Point the live alias back at the version that was live before the last promote."""
    from embedtune.index import open_store

    st = open_store(store)
    before = st.live_name()
    name = st.rollback()
    typer.echo(f"live: {name!r} (was {before!r})")


@index_app.command("status")
def status(store: StoreOpt) -> None:
    """Versions of the store, which is live, their models, sizes, and what vectors cost per dimension."""
    from rich.table import Table

    from embedtune.index import open_store
    from embedtune.index.status import (
        cost_dims,
        human_bytes,
        storage_by_dim,
        store_status,
    )
    from embedtune.retrieval.dense import model_display_name

    st = open_store(store)
    rows = store_status(st)
    console = make_console()
    table = Table(title=f"index store {st.uri} ({st.backend})")
    for col in ("version", "live", "model", "dim", "chunks", "complete", "on disk", "vectors (float32)", "created"):
        table.add_column(col, justify="right" if col in ("dim", "chunks", "on disk", "vectors (float32)") else "left")
    for s in rows:
        m = s.meta
        table.add_row(
            m.name, "[bold green]live[/]" if s.live else "", model_display_name(m.model_path),
            f"{m.dim}" + (f"/{m.model_dim}" if m.model_dim and m.model_dim != m.dim else ""),
            f"{s.count:,}" + ("" if m.complete or not m.expected else f" of {m.expected:,}"),
            "yes" if m.complete else "[yellow]no[/]", human_bytes(s.disk_bytes), human_bytes(s.vector_bytes),
            m.created_at[:16].replace("T", " "),
        )
    console.print(table)
    if not rows:
        return
    history = st.history()
    if history:
        console.print(f"rollback goes to: {history[-1]!r}", highlight=False)
    n = max(s.count for s in (rows if not any(s.live for s in rows) else [s for s in rows if s.live]))
    cost = Table(title=f"storage of float32 vectors by dimension, for {n:,} chunks")
    for col in ("dim", "bytes per vector", "total"):
        cost.add_column(col, justify="right")
    for row in storage_by_dim(n, cost_dims(rows)):
        cost.add_row(str(row["dim"]), f"{row['bytes per vector']:,}", human_bytes(row["total bytes"]))
    console.print(cost)


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
