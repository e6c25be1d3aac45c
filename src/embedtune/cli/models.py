"""``embedtune models``: the models that load offline on this machine."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from embedtune.models.registry import list_models
from embedtune.progress import make_console


def _disk_mb(path: Path) -> float:
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files) / 1e6


def models() -> None:
    """List the pretrained models that load with no network, where each was found, or how to install it.

    Ends with this machine's CPU capability and what ``auto`` picks (``embedtune doctor`` for the details).
    """
    from embedtune.cli.doctor import auto_choices
    from embedtune import hardware

    table = Table(title="Offline models")
    for col in ("name", "kind", "dim", "params", "on disk", "found at / install with", "note"):
        table.add_column(col, overflow="fold")
    for spec, found in list_models():
        where = f"[green]{found}[/]" if found else f"[yellow]not installed: {spec.install}[/]"
        size = f"{_disk_mb(found):.0f} MB" if found else "-"
        table.add_row(spec.name, spec.kind, str(spec.dim or "-"), f"{spec.params_m:g}M", size, where, spec.note)
    console = make_console()
    console.print(table)
    cap = hardware.detect()
    picks = ", ".join(f"{k.split(' ')[0]}={v}" for k, v in auto_choices(cap).items())
    console.print(f"CPU: {cap.summary()}\nauto picks: {picks}  (embedtune doctor for details)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
