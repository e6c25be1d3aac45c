"""Writing a command's optional ``--json`` and ``--html`` outputs, the same way for every command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer


def save_outputs(json_out: Path | None, to_json: Callable[[], Any], html_out: Path | None, to_html: Callable[[], Any]) -> None:
    """Write the JSON document and/or the HTML report that were asked for (each built only if asked)."""
    from embedtune.workspace import write_json

    if json_out is not None:
        write_json(json_out, to_json())
        typer.echo(f"wrote {json_out}")
    if html_out is not None:
        to_html().save(html_out)
        typer.echo(f"wrote {html_out}")
