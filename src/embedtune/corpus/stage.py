"""The ingest stage: input files -> ``chunks.jsonl`` + ``ingest_report.json`` in the workspace.

Files are processed one by one and each file's chunks are cached in the stage's scratch folder, so an
interrupted run resumes where it stopped; a rerun with the same inputs and settings does nothing.
Bad inputs are skipped with a one-line warning; only a corpus with nothing usable is an error. The workspace
written to (and any other embedtune workspace) is never read as input.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field
from rich.markup import escape
from rich.progress import Progress

from embedtune.corpus.chunk import Chunk
from embedtune.corpus.chunker import Chunker, ChunkSizes, chunk_sizes
from embedtune.corpus.config import IngestConfig
from embedtune.corpus.dedup import deduplicate
from embedtune.corpus.discover import discover, shown
from embedtune.corpus.document import Document, SourceFile
from embedtune.corpus.loaders import load
from embedtune.corpus.report import IngestReport, TokenStats
from embedtune.corpus.skips import NO_TEXT, UNREADABLE, Skipped
from embedtune.corpus.tokenizer import ModelTokenizer, load_tokenizer
from embedtune.errors import EmbedtuneError
from embedtune.hashing import sha256_file, sha256_json, sha256_text
from embedtune.progress import console, progress_bar
from embedtune.workspace import Workspace, write_json
from embedtune.workspace.artifacts import CHUNKS, INGEST_REPORT

STAGE = "ingest"
FORMAT = 1  # bump when the chunk format or algorithm changes, so old results are not reused
MAX_MESSAGES_PER_FILE = 10  # a file with 10,000 bad lines gets 10 warnings and a count
SHARED_ID = "id shared across files"
BIG_DOCUMENT_CHARS = 1_000_000  # chunking this much takes seconds: say so and show its progress


class FileResult(BaseModel):
    """What one input file gave; cached in the scratch folder so an interrupted ingest resumes."""

    chunks: list[Chunk] = Field(default_factory=list)
    documents: int = 0
    encoding: str | None = None
    skipped: str | None = Field(None, description="reason, when the whole file was skipped")
    problems: dict[str, int] = Field(default_factory=dict, description="reason -> records skipped")
    messages: list[str] = Field(default_factory=list)
    empty: int = 0
    too_short: int = 0
    truncated: int = 0


def _capped(docs: list[Document], limit: int, path: Path) -> tuple[list[Document], list[str]]:
    """``docs`` with any text over ``limit`` characters cut there, and a warning for each one cut."""
    out, messages = [], []
    for doc in docs:
        if len(doc.text) > limit:
            where = path if len(docs) == 1 else f"{path} ({doc.doc_id}" + (f", page {doc.page})" if doc.page else ")")
            messages.append(f"{where}: {len(doc.text):,} characters in one document; only the first {limit:,} are "
                            f"ingested (ingest.max_document_chars)")
            doc = dataclasses.replace(doc, text=doc.text[:limit])
        out.append(doc)
    return out, messages


def process_file(file: SourceFile, config: IngestConfig, chunker: Chunker) -> FileResult:
    """Load and chunk one file; a bad file or record becomes a message, never an exception."""
    try:
        loaded = load(file, config)
    except Skipped as e:
        return FileResult(skipped=e.kind, messages=[str(e)])
    loaded.documents, cut = _capped(loaded.documents, config.max_document_chars, file.path)
    messages = [str(p) for p in loaded.problems[:MAX_MESSAGES_PER_FILE]]
    if len(loaded.problems) > MAX_MESSAGES_PER_FILE:
        messages.append(f"{file.path}: {len(loaded.problems) - MAX_MESSAGES_PER_FILE} more bad records")
    result = FileResult(
        encoding=loaded.encoding,
        problems=dict(Counter(p.kind for p in loaded.problems)),
        messages=messages + cut,
        empty=loaded.empty_records,
        truncated=len(cut),
    )
    if not loaded.documents:
        result.skipped = NO_TEXT
        result.messages.append(str(Skipped(file.path, NO_TEXT, "no usable records")))
        return result
    if (size := sum(len(d.text) for d in loaded.documents)) > BIG_DOCUMENT_CHARS:
        console.print(f"chunking {escape(str(file.path))}: {size:,} characters", highlight=False)
    result.chunks, result.too_short = chunker.chunk(loaded.documents)
    result.documents = len({d.doc_id for d in loaded.documents})
    return result


def _fingerprint(files: list[SourceFile]) -> tuple[list[SourceFile], list[Skipped], dict[str, str]]:
    """The readable files, the unreadable ones, and ``{path: sha256}`` of the readable."""
    readable, refused, hashes = [], [], {}
    for f in files:
        try:
            hashes[str(f.path)] = sha256_file(f.path)
        except OSError as e:  # no permission, vanished, an I/O error: skip this file, not the ingest
            refused.append(Skipped(shown(f.path), UNREADABLE, e.strerror or type(e).__name__))
            continue
        readable.append(f)
    return readable, refused, hashes


def _process_with_progress(file: SourceFile, config: IngestConfig, chunker: Chunker, bar: Progress) -> FileResult:
    """:func:`process_file`, with a progress bar of its own for a file big enough to take a while."""
    try:
        size = file.path.stat().st_size
    except OSError:
        size = 0
    if size <= BIG_DOCUMENT_CHARS:
        return process_file(file, config, chunker)
    task = bar.add_task(f"chunking {escape(file.path.name)}", total=size)  # bytes: about the characters
    chunker.progress = lambda n: bar.advance(task, n)
    try:
        return process_file(file, config, chunker)
    finally:
        chunker.progress = None
        bar.remove_task(task)


def _shared_ids(results: list[tuple[SourceFile, FileResult]]) -> list[str]:
    """A warning per document id that two files both use (their chunks would count as one document)."""
    first: dict[str, str] = {}
    messages = []
    for file, result in results:
        for doc_id in dict.fromkeys(c.doc_id for c in result.chunks):
            owner = first.setdefault(doc_id, file.source)
            if owner != file.source:
                messages.append(f"{file.path}: document id {doc_id!r} is also used in {owner}; "
                                f"their chunks count as one document")
    return messages


def _warn(message: str) -> None:
    console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def ingest(
    paths: str | Path | Iterable[str | Path],
    workspace: Workspace | str | Path,
    config: IngestConfig = IngestConfig(),
    *,
    force: bool = False,
) -> IngestReport:
    """Read documents under ``paths`` into ``<workspace>/chunks.jsonl``; see the module docstring.

    A rerun with the same files and settings returns the existing report (``reused``) unless ``force``.

    Raises EmbedtuneError when nothing usable was found (after warning about each skipped input).
    """
    t0 = time.perf_counter()
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    tok = load_tokenizer(config.model)
    sizes = chunk_sizes(tok, config.chunk_tokens, config.overlap_tokens, config.include_title)
    files, refused = discover(paths, exclude=[ws.root])
    files, unreadable, inputs = _fingerprint(files)
    refused += unreadable
    inputs |= {str(s.path): s.kind for s in refused}
    params = config.model_dump() | {
        "paths": [str(p) for p in paths],  # ids are relative to these
        "chunk_tokens": sizes.chunk_tokens,
        "overlap_tokens": sizes.overlap_tokens,
        "max_tokens": tok.max_tokens,
        "tokenizer": tok.fingerprint,
        "format": FORMAT,
    }
    if not force and ws.is_current(STAGE, inputs, params):
        console.print(f"ingest is current, skipping ({CHUNKS.path(ws)})", highlight=False)
        return INGEST_REPORT.read_model(ws, IngestReport).model_copy(update={"reused": True})

    chunker = Chunker(tok, sizes, config.include_title, config.min_tokens)
    for skip in refused:
        _warn(str(skip))
    with ws.stage(STAGE, inputs, params) as run:
        params_key = sha256_json(params)
        caches = [run.scratch / f"{sha256_text(params_key + f.source + inputs[str(f.path)])[:24]}.json" for f in files]
        if done := sum(c.exists() for c in caches):
            console.print(f"resuming: {done} of {len(files)} files already ingested", highlight=False)
        results: list[tuple[SourceFile, FileResult]] = []
        with progress_bar() as bar:
            task = bar.add_task("ingest", total=len(files))
            for file, cache in zip(files, caches, strict=True):
                if cache.exists():
                    result = FileResult.model_validate_json(cache.read_text(encoding="utf-8"))
                else:
                    result = _process_with_progress(file, config, chunker, bar)
                    write_json(cache, result.model_dump(mode="json"))
                for message in result.messages:
                    _warn(message)
                results.append((file, result))
                bar.advance(task)

        kept, n_exact, n_near = deduplicate([c for _, r in results for c in r.chunks], config.near_duplicate_threshold)
        report = _report(tok, sizes, config, refused, results)
        if shared := _shared_ids(results):
            for message in shared:
                _warn(message)
            report.messages += shared
            report.records_skipped[SHARED_ID] = len(shared)
        report.chunks = len(kept)
        report.dropped |= {"exact duplicate": n_exact, "near duplicate": n_near}
        report.tokens = TokenStats.of([c.n_tokens for c in kept])
        if not kept:
            report.seconds = round(time.perf_counter() - t0, 2)
            INGEST_REPORT.write(ws, report)
            raise EmbedtuneError(_nothing_usable(paths, report))
        CHUNKS.write(run, kept)
        report.seconds = round(time.perf_counter() - t0, 2)
        INGEST_REPORT.write(run, report)
        run.record.summary = {
            "files": report.files_ingested,
            "skipped": sum(report.files_skipped.values()),
            "documents": report.documents,
            "chunks": report.chunks,
        }
    return report


def _report(
    tok: ModelTokenizer,
    sizes: ChunkSizes,
    config: IngestConfig,
    refused: list[Skipped],
    results: list[tuple[SourceFile, FileResult]],
) -> IngestReport:
    """The report's settings and per-file counts (chunk counts are added after deduplication)."""
    skipped = Counter(s.kind for s in refused) + Counter(r.skipped for _, r in results if r.skipped)
    records = sum((Counter(r.problems) for _, r in results), Counter())
    return IngestReport(
        model=tok.name,
        max_tokens=tok.max_tokens,
        chunk_tokens=sizes.chunk_tokens,
        overlap_tokens=sizes.overlap_tokens,
        include_title=config.include_title,
        min_tokens=config.min_tokens,
        files_seen=len(refused) + len(results),
        files_ingested=sum(1 for _, r in results if not r.skipped),
        files_skipped=dict(sorted(skipped.items())),
        records_skipped=dict(sorted(records.items())),
        messages=[str(s) for s in refused] + [m for _, r in results for m in r.messages],
        encodings={str(f.path): r.encoding for f, r in results if r.encoding},
        documents=sum(r.documents for _, r in results),
        truncated=sum(r.truncated for _, r in results),
        dropped={"empty": sum(r.empty for _, r in results), "too short": sum(r.too_short for _, r in results)},
    )


def _nothing_usable(paths: list[str | Path], report: IngestReport) -> str:
    where = ", ".join(map(str, paths))
    if not report.files_seen:
        return f"no input files found under {where}"
    reasons = ", ".join(f"{n} {reason}" for reason, n in report.files_skipped.items()) or "no text in any of them"
    return f"nothing usable was ingested from {where} ({report.files_seen} files: {reasons}); see the warnings above"
