"""Corpus ingestion: documents in many formats -> token-aware, deduplicated chunks in ``chunks.jsonl``."""

from embedtune.corpus.chunk import Chunk, load_chunks
from embedtune.corpus.config import IngestConfig
from embedtune.corpus.report import IngestReport, print_ingest_summary
from embedtune.corpus.stage import ingest

__all__ = ["Chunk", "IngestConfig", "IngestReport", "ingest", "load_chunks", "print_ingest_summary"]
