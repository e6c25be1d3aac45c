"""``embedtune ingest``: read documents into token-sized chunks (``chunks.jsonl``) in a workspace."""

from __future__ import annotations

from pathlib import Path

import typer

from embedtune.errors import EmbedtuneError
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.workspace import default_workspace
from embedtune.progress import make_console


def ingest_command(
    paths: list[Path] = typer.Argument(
        ..., help="Files or folders: .txt .md .html .pdf .jsonl, or BEIR folders (corpus.jsonl). Folders recurse."
    ),
    workspace: Path = typer.Option(default_workspace(), "--workspace", "-w", help="Run folder to write into."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Model whose tokenizer and limit chunks fit."),
    chunk_tokens: int | None = typer.Option(
        None, "--chunk-tokens", min=8,
        help="Body tokens per chunk (default: the model limit less special tokens and 1/8 for the title).",
    ),
    overlap_tokens: int | None = typer.Option(
        None, "--overlap-tokens", min=0,
        help="Tokens neighbouring chunks may share, in whole sentences (default: 15% of a chunk).",
    ),
    no_title: bool = typer.Option(False, "--no-title", help="Do not prepend the document title to its chunks."),
    min_tokens: int | None = typer.Option(
        None, "--min-tokens", min=0, help="Drop fragments under this many tokens, not a whole document (default: 5)."
    ),
    text_field: str | None = typer.Option(None, "--text-field", help="JSONL field with the text (default: text)."),
    title_field: str | None = typer.Option(None, "--title-field", help="JSONL field with the title (default: title)."),
    id_field: str | None = typer.Option(None, "--id-field", help="JSONL field with the id (default: _id, else id)."),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Encoding of files that are not UTF-8, e.g. cp1250 (default: detected, preferring "
        "cp1252/latin-1 when the guess is ambiguous).",
    ),
) -> None:
    """Load, chunk and deduplicate documents; bad files are skipped with a warning and counted."""
    # Imported here so `embedtune --help` stays fast; unset options keep IngestConfig's defaults.
    from pydantic import ValidationError

    from embedtune.corpus import IngestConfig, ingest, print_ingest_summary

    given = {
        "chunk_tokens": chunk_tokens,
        "overlap_tokens": overlap_tokens,
        "min_tokens": min_tokens,
        "text_field": text_field,
        "title_field": title_field,
        "id_field": id_field,
        "encoding": encoding,
    }
    try:
        config = IngestConfig(
            model=model, include_title=not no_title, **{k: v for k, v in given.items() if v is not None}
        )
    except ValidationError as e:
        raise EmbedtuneError(f"invalid ingest option: {e.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    report = ingest(paths, workspace, config)
    print_ingest_summary(report, make_console())


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
