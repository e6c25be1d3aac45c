"""``embedtune run``: the main job on the bundled defaults (today: ingest the sample corpus, show its chunks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.models.registry import DEFAULT_MODEL
from embedtune.samples import scifact_sample
from embedtune.workspace import default_workspace


def run(
    corpus: Annotated[
        list[Path] | None, typer.Option("--corpus", help="Documents to use (files or folders); default: bundled SciFact sample.")
    ] = None,
    workspace: Annotated[Path, typer.Option(help="Run directory.")] = default_workspace(),
    model: Annotated[str, typer.Option(help="Base embedding model (registry name, folder, or cached hub id).")] = DEFAULT_MODEL,
) -> None:
    """Run the pipeline on a corpus (default: the bundled SciFact sample) and report what it produced."""
    from embedtune.corpus import IngestConfig, ingest, print_ingest_summary  # heavy: keep `--help` fast

    paths = corpus or [scifact_sample()]
    report = ingest(paths, workspace, IngestConfig(model=model))
    print_ingest_summary(report)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
