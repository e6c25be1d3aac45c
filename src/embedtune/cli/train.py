"""``embedtune train``: fine-tune the base model on a workspace's training data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.models.registry import DEFAULT_MODEL
from embedtune.workspace import default_workspace
from embedtune.progress import make_console


def train(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Run directory (after `split`, optionally `mine`).")] = default_workspace(),
    model: Annotated[str, typer.Option(help="Base model: registry name, folder, or cached hub id.")] = DEFAULT_MODEL,
    loss: Annotated[str, typer.Option(help="mnrl | cached-mnrl | gist | triplet")] = "mnrl",
    epochs: float = 1.0,
    batch_size: int = 32,
    learning_rate: Annotated[float | None, typer.Option(help="Default 2e-5, or 1e-4 with --lora.")] = None,
    hard_negatives: Annotated[int, typer.Option(help="Mined negatives per query to train with.")] = 1,
    dims: Annotated[str | None, typer.Option(help="Matryoshka dims, e.g. 384,256,128,64; 'none' to turn off.")] = None,
    lora: Annotated[bool, typer.Option(help="Train LoRA adapters (merged into the saved model).")] = False,
    bf16: Annotated[bool, typer.Option(help="bf16 autocast (AMX CPUs, GPUs).")] = False,
    max_seq_length: int | None = None,
    distill: Annotated[str, typer.Option(help="none | kl | margin-mse: distil `embedtune teach`'s labels.")] = "none",
    seed: int = 0,
) -> None:
    """Train contrastively (MNRL + Matryoshka by default), keep the best dev checkpoint, resume after a kill."""

    from embedtune.errors import EmbedtuneError
    from embedtune.training import TrainConfig
    from embedtune.training.stage import train_stage

    if loss not in ("mnrl", "cached-mnrl", "gist", "triplet"):
        raise EmbedtuneError(f"unknown loss {loss!r}: choose mnrl, cached-mnrl, gist or triplet")
    if distill not in ("none", "kl", "margin-mse"):
        raise EmbedtuneError(f"unknown --distill {distill!r}: choose none, kl or margin-mse")
    try:
        dim_list = None if dims is None else [] if dims == "none" else [int(d) for d in dims.split(",")]
    except ValueError:
        raise EmbedtuneError(f"--dims {dims!r}: expected comma-separated integers or 'none'") from None
    cfg = TrainConfig(
        loss=loss, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, hard_negatives=hard_negatives,
        matryoshka_dims=dim_list, lora=lora, bf16=bf16, max_seq_length=max_seq_length, seed=seed, distill=distill,
    )
    result = train_stage(workspace, model, cfg)
    console = make_console()
    if result is None:
        console.print("train is current, skipping")
        return
    best = f", best dev NDCG@10 {result.best_metric:.4f}" if result.best_metric is not None else ""
    console.print(
        f"trained {result.steps} steps on {result.train_rows:,} rows in {result.seconds:.0f}s{best}; "
        f"model: {result.model_dir}"
    )


def register(app: typer.Typer) -> None:
    app.command("train")(train)
