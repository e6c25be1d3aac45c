"""``embedtune run`` (the whole pipeline) and ``embedtune init`` (its commented config file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.cli.options import InferenceOpt, RayAddressOpt

from embedtune.workspace import default_workspace

QUICK = {  # smoke-test sizes: minutes on 2 cores, proves the plumbing, not the quality
    "generate": {"backend": "none"},
    "mining": {"num_negatives": 1},
    "train": {"max_rows": 256, "batch_size": 32},
    "teach": {"max_rows": 320, "dev_queries": 30},
    "report": {"hybrid": False, "rerank": None},
}


def run(
    corpus: Annotated[
        list[Path] | None, typer.Option("--corpus", help="Documents (files or folders); default: bundled SciFact sample.")
    ] = None,
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Run directory.")] = default_workspace(),
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML run config (`embedtune init` writes one).")] = None,
    model: Annotated[str | None, typer.Option(help="Base embedding model (registry name, folder, cached hub id).")] = None,
    eval_dataset: Annotated[
        Path | None, typer.Option(help="BEIR folder with real eval queries + qrels (doc ids = ingested doc ids).")
    ] = None,
    eval_split: Annotated[str | None, typer.Option(help="qrels split of --eval-dataset (default test).")] = None,
    quick: Annotated[bool, typer.Option(help="Smoke-test sizes: offline signals only, 256 training rows.")] = False,
    inference: InferenceOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Turn a corpus into a fine-tuned model with proof: ingest, generate, split, baseline, mine, train, report."""
    from embedtune.pipeline.config import RunConfig, load_run_config
    from embedtune.pipeline.run import run_pipeline

    cfg = load_run_config(config) if config is not None else RunConfig()
    updates: dict = {}
    if corpus:
        updates["corpus"] = corpus
    if model:
        updates["base_model"] = model
    if inference:
        updates["inference"] = inference
    if eval_dataset or eval_split:
        updates["eval"] = cfg.eval.model_copy(update={k: v for k, v in (("dataset", eval_dataset), ("split", eval_split)) if v})
    if quick:
        for section, values in QUICK.items():
            updates[section] = getattr(cfg, section).model_copy(update=values)
    result = run_pipeline(cfg.model_copy(update=updates), workspace, ray_address=ray_address)
    if result.exit_code:  # the gate kept the base model: scripts see it in the exit status
        raise typer.Exit(result.exit_code)


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config.")] = Path("embedtune.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented run config with every default, to edit and pass to `embedtune run --config`."""
    from embedtune.errors import EmbedtuneError
    from embedtune.pipeline.config import default_config_yaml
    from embedtune.workspace import atomic_write

    if path.exists() and not force:
        raise EmbedtuneError(f"{path}: already exists (use --force to overwrite)")
    with atomic_write(path) as f:
        f.write(default_config_yaml())
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("init")(init)
