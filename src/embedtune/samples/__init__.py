"""Bundled sample data: a 1,500-abstract SciFact slice with its real test/train queries (see scifact/SOURCE.md)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def scifact_sample() -> Path:
    """Folder of the bundled SciFact sample, in BEIR layout (corpus.jsonl, queries.jsonl, qrels/)."""
    return Path(str(resources.files("embedtune.samples") / "scifact"))
