"""``embedtune label``: label real queries that have no judgments with the offline teacher, for ``--labelled``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.models.registry import DEFAULT_MODEL
from embedtune.progress import make_console
from embedtune.workspace import default_workspace


def label(
    queries: Annotated[Path, typer.Argument(help="Unlabelled queries: a text file (one per line) or JSONL with 'query'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Labelled-pairs JSONL to write (use as generate.labelled).")],
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Run directory (after `ingest`).")] = default_workspace(),
    model: Annotated[str, typer.Option(help="Base model (its vectors give the hybrid candidates).")] = DEFAULT_MODEL,
    teacher: Annotated[str, typer.Option(help="auto | cross-encoder | dense | fusion | ensemble")] = "auto",
    cross_encoder: Annotated[str | None, typer.Option(help="Cross-encoder: registry name, folder or cached hub id.")] = None,
) -> None:
    """Label real queries (a search log, no clicks) with the teacher's first document in the base hybrid's top 20."""
    from embedtune.teach import TeachConfig
    from embedtune.teach.label_queries import label_queries
    from embedtune.yaml_file import validate_settings

    settings = {"teacher": teacher} | ({"cross_encoder": cross_encoder} if cross_encoder else {})
    result = label_queries(workspace, queries, out, validate_settings(TeachConfig, settings, "--options"), model)
    make_console().print(
        f"{result.labelled:,} of {result.read:,} queries labelled by {result.teacher} -> {result.path}; train on them "
        f"with `generate.labelled: {result.path}` in the run config", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("label")(label)
