"""SQLite cache of LLM generations, so a killed or repeated run never pays for the same call twice.

Keyed by (chunk content hash, prompt hash, model, sample index): editing one style's template or the domain hint
changes the prompt hash and regenerates only the calls that used it; asking for more samples per chunk generates
only the new sample indices. Each result is committed as it arrives (WAL mode, so a kill loses at most the calls
in flight, and readers never block the writer).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.hashing import sha256_json
from embedtune.workspace.artifacts import QUERYGEN_CACHE

CACHE_FILE = QUERYGEN_CACHE.relpath  # its place in a workspace, for callers that copy or open it

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    chunk_hash TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    sample INTEGER NOT NULL,
    queries TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def cache_key(chunk_hash: str, prompt_hash: str, model: str, sample: int) -> str:
    return sha256_json([chunk_hash, prompt_hash, model, sample])


class GenerationCache:
    """Stored LLM outputs (the parsed query strings and token usage) of one workspace."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across a killed process under WAL; only a power cut can lose the last commits.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as e:
            raise EmbedtuneError(f"{self.path}: cannot open the generation cache ({e}); delete it to start over") from None

    def get_many(self, keys: list[str]) -> dict[str, list[str]]:
        """Cached query lists for those of ``keys`` that are present."""
        found: dict[str, list[str]] = {}
        for i in range(0, len(keys), 500):  # SQLite caps the number of bound parameters
            part = keys[i : i + 500]
            rows = self._db.execute(
                f"SELECT key, queries FROM generations WHERE key IN ({','.join('?' * len(part))})", part
            )
            found.update((key, json.loads(queries)) for key, queries in rows)
        return found

    def put(
        self,
        key: str,
        *,
        chunk_hash: str,
        prompt_hash: str,
        model: str,
        sample: int,
        queries: list[str],
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        """Store one call's result and commit at once: what was paid for survives a kill."""
        self._db.execute(
            "INSERT OR REPLACE INTO generations "
            "(key, chunk_hash, prompt_hash, model, sample, queries, prompt_tokens, completion_tokens) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, chunk_hash, prompt_hash, model, sample, json.dumps(queries, ensure_ascii=False),
             prompt_tokens, completion_tokens),
        )
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> GenerationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
