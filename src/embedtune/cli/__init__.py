"""The ``embedtune`` command line: a thin Typer layer over the Python API, one module per command group."""

from __future__ import annotations

import importlib
import sys

import typer

from embedtune.errors import EmbedtuneError
from embedtune.progress import console

app = typer.Typer(
    name="embedtune",
    help="Fine-tune an embedding model on your own documents, prove it retrieves better, migrate safely.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module defines register(app); one owner per module.
_COMMAND_MODULES = (
    "run", "ingest", "generate", "label", "split", "mine", "teach", "train", "evaluate", "models", "index", "serve", "feedback",
    "doctor", "adapter",
)
for _name in _COMMAND_MODULES:
    importlib.import_module(f"embedtune.cli.{_name}").register(app)


def main() -> None:
    """Console entry point: user errors become one red line on stderr and exit code 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except EmbedtuneError as e:
        console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished stages are kept; rerun the same command to resume")
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, EOFError):
        sys.exit(1)
    except typer.TyperException as e:  # usage errors: unknown option, bad value
        show = getattr(e, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(e, "exit_code", 2))
