"""Teacher scores on disk: every (signal, query, passage) is scored once, and a killed ``teach`` resumes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedtune.hashing import sha256_text


class ScoreCache:
    """An append-only JSONL of ``{"k": key, "s": score}`` lines; a torn last line (kill mid-write) is ignored.

    Args:
        path: the cache file (created on first :meth:`put`); None keeps scores in memory only.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._scores: dict[str, float] = {}
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self._scores[row["k"]] = float(row["s"])
                except (ValueError, KeyError, TypeError):
                    continue  # a partial line from an interrupted write: that pair is scored again

    @staticmethod
    def key(signal: str, query: str, passage: str) -> str:
        return sha256_text(json.dumps([signal, query, passage], ensure_ascii=False))[:32]

    def __contains__(self, key: str) -> bool:
        return key in self._scores

    def __getitem__(self, key: str) -> float:
        return self._scores[key]

    def __len__(self) -> int:
        return len(self._scores)

    def put(self, keys: Sequence[str], scores: np.ndarray) -> None:
        """Add scores and append them to the file (flushed, so a kill loses at most the block in flight)."""
        if self.path is None:
            self._scores.update(zip(keys, np.asarray(scores, dtype=np.float64).tolist()))
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            for k, s in zip(keys, np.asarray(scores, dtype=np.float64).tolist()):
                self._scores[k] = s
                f.write(json.dumps({"k": k, "s": round(s, 6)}) + "\n")
            f.flush()
