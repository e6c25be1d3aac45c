"""``embedtune teach``: label the mined training rows with an offline teacher, for distillation in ``train``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.models.registry import DEFAULT_MODEL
from embedtune.workspace import default_workspace
from embedtune.progress import make_console


def teach(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Run directory (after `mine`).")] = default_workspace(),
    model: Annotated[str, typer.Option(help="Base model (its vectors give the hybrid candidates).")] = DEFAULT_MODEL,
    teacher: Annotated[str, typer.Option(help="auto | cross-encoder | dense | fusion | ensemble")] = "auto",
    cross_encoder: Annotated[str | None, typer.Option(help="Cross-encoder: registry name, folder or cached hub id.")] = None,
    candidates: Annotated[int, typer.Option(help="Candidates the teacher scores per row, besides the positive.")] = 6,
    max_rows: Annotated[int | None, typer.Option(help="Rows to teach (a seeded sample): the teacher's time budget.")] = 1280,
    force: Annotated[bool, typer.Option(help="Teach again even when current.")] = False,
) -> None:
    """Score each training row's positive and candidates with a teacher; train with `--distill kl` afterwards."""

    from embedtune.teach import TeachConfig
    from embedtune.teach import teach as run_teach
    from embedtune.yaml_file import validate_settings

    settings = {"teacher": teacher, "candidates": candidates, "max_rows": max_rows}
    if cross_encoder:
        settings["cross_encoder"] = cross_encoder
    cfg = validate_settings(TeachConfig, settings, "--options")
    result = run_teach(workspace, cfg, model, force=force)
    r = result.report
    dev = r.get("dev_ndcg@10") or {}
    make_console().print(
        f"{'current: ' if result.reused else ''}{r['teacher']}: {r['rows_out']:,} of {r['rows_in']:,} rows kept, "
        f"{r['false_negatives_dropped']:,} false negatives dropped, {r['dropped_inconsistent']:,} rows whose positive it "
        f"ranks low; dev NDCG@10 " + ", ".join(f"{k} {v}" for k, v in dev.items()) + f" -> {result.path}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("teach")(teach)
