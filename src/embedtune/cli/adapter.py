"""``embedtune adapter``: train a query-only adapter (no corpus re-embedding), evaluate it, attach it to an index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.cli.options import InferenceOpt, make_runner, quiet_libraries
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.progress import make_console
from embedtune.workspace import default_workspace

adapter_app = typer.Typer(
    name="adapter",
    help="Adapt retrieval without re-embedding the corpus: a small map on query vectors, against frozen corpus vectors.",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", help="Run folder (after split; mine/teach optional).")]


def _dims(text: str | None) -> list[int] | None:
    from embedtune.errors import EmbedtuneError

    try:
        return None if text is None else [int(d) for d in text.split(",") if d.strip()]
    except ValueError:
        raise EmbedtuneError(f"--dims {text!r}: expected comma-separated integers") from None


@adapter_app.command("train")
def train(
    workspace: WorkspaceOpt = default_workspace(),
    model: Annotated[str | None, typer.Option(
        help=f"Base model: the one that made the corpus vectors (default: the config's, else {DEFAULT_MODEL}).")] = None,
    config: Annotated[Path | None, typer.Option(help="Run config YAML; its `adapter:` section is used.")] = None,
    kind: Annotated[str | None, typer.Option(help="linear | mlp")] = None,
    dims: Annotated[str | None, typer.Option(help="Matryoshka dims, e.g. 384,192,96 (default: full and halves).")] = None,
    epochs: int | None = None,
    out: Annotated[Path | None, typer.Option(help="Adapter folder (default <workspace>/adapter).")] = None,
    encode_corpus: Annotated[bool, typer.Option(
        "--encode-corpus", help="Encode the corpus once with the base model if no cached vectors exist.")] = False,
    inference: InferenceOpt = None,
) -> None:
    """Train a query adapter from the workspace's training rows against the base model's cached corpus vectors."""
    from embedtune.adapter import AdapterConfig, train_adapter

    quiet_libraries()
    cfg = AdapterConfig()
    if config is not None:
        from embedtune.yaml_file import read_yaml, validate_settings

        document = read_yaml(config) or {}
        section = dict(document.get("adapter") or {})
        if section.get("base_model") is None:  # the section follows the run's model unless it names its own
            section["base_model"] = document.get("base_model")
        cfg = validate_settings(AdapterConfig, section, config)
    updates = {"base_model": model, "kind": kind, "dims": _dims(dims), "epochs": epochs,
               "inference": make_runner(inference).inference if inference is not None else None}
    cfg = cfg.model_copy(update={k: v for k, v in updates.items() if v is not None})
    cfg = AdapterConfig.model_validate(cfg.model_dump())
    result = train_adapter(workspace, cfg, out=out, encode_corpus_if_missing=encode_corpus)
    console = make_console()
    if result.reused:
        console.print(f"adapter is current, skipping: {result.path}")
        return
    picked = "" if result.best_epoch is None else (
        "; nothing beat base on dev: the identity is kept" if result.best_epoch == 0
        else f"; dev NDCG@10 (mean over dims) {result.history[0]:.4f} -> {result.history[result.best_epoch]:.4f} "
             f"(epoch {result.best_epoch})")
    console.print(f"trained a {cfg.kind} adapter on {result.rows:,} rows ({result.source}) in {result.seconds:.1f}s "
                  f"(+{result.query_encode_seconds:.1f}s encoding queries; corpus not encoded){picked}; "
                  f"adapter: {result.path}", highlight=False)


@adapter_app.command("eval")
def evaluate(
    workspace: WorkspaceOpt = default_workspace(),
    model: Annotated[str, typer.Option(help="The adapter's base model.")] = DEFAULT_MODEL,
    adapter: Annotated[Path | None, typer.Option(help="Adapter folder (default <workspace>/adapter).")] = None,
    tuned: Annotated[Path | None, typer.Option(help="A full fine-tune of the same base, to compare with.")] = None,
    dims: Annotated[str | None, typer.Option(help="Dims to report (default: the adapter's).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the comparison as JSON here.")] = None,
    reembed_budget: Annotated[float | None, typer.Option(
        help="Seconds of corpus re-embedding you accept (default 3600): beyond it the adapter is recommended "
             "whenever it lifts.")] = None,
    inference: InferenceOpt = None,
) -> None:
    """Base vs adapter (vs --tuned) NDCG@10 per dim on the workspace's eval split, each path's cost, and which
    to choose (the rule: docs/adapter.md, "Choosing")."""
    from rich.table import Table

    from embedtune.adapter import compare_in_workspace
    from embedtune.index.status import human_bytes
    from embedtune.workspace import write_json

    quiet_libraries()
    budget = {} if reembed_budget is None else {"reembed_budget_s": reembed_budget}
    result = compare_in_workspace(workspace, model, adapter, _dims(dims), tuned_model=tuned,
                                  runner=make_runner(inference), **budget)
    console = make_console()
    rows = result.rows()
    table = Table(title=f"base vs adapter, {result.evaluation.n_queries:,} eval queries (NDCG@10)")
    for key in rows[0]:
        table.add_column(key)
    for row in rows:
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)
    for c in result.costs:
        train_s = "-" if c.train_seconds is None else f"{c.train_seconds:.1f}s"
        console.print(f"{c.path}: training {train_s}, re-embedding {c.reembed_seconds:,.0f}s for {result.chunks:,} chunks "
                      f"(at {result.encode_rate:,.1f} chunks/s), extra storage {human_bytes(c.extra_storage_bytes)}",
                      highlight=False)
    if result.recommendation is not None:
        console.print(result.recommendation.line(), highlight=False)
    if json_out is not None:
        write_json(json_out, result.to_json())


@adapter_app.command("attach")
def attach(
    store: Annotated[str, typer.Option("--store", "-s", help="Index store folder or Milvus URL.")],
    name: Annotated[str, typer.Option("--name", "-n", help="The new adapter version's name.")],
    adapter: Annotated[Path, typer.Option(help="Adapter folder (`embedtune adapter train`).")],
    source: Annotated[str, typer.Option(help="The version whose vectors it queries (default: live).")] = "live",
) -> None:
    """Add an index version that serves SOURCE's stored vectors through the adapter (nothing re-embedded)."""
    from embedtune.index import attach_adapter

    meta = attach_adapter(store, source, name, adapter)
    make_console().print(f"version {meta.name!r}: the vectors of {meta.vectors_of!r} with query adapter "
                         f"{meta.query_adapter_hash[:12]}; promote it with `embedtune index promote {meta.name}`",
                         highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(adapter_app, name="adapter")
