"""Drop exact and near-duplicate chunks (boilerplate, mirrored pages, re-sent records) in linear time.

Exact: a hash of the normalised body (case-folded, NFKC, whitespace collapsed). Near: MinHash over word
3-gram shingles with LSH banding, so only chunks sharing a band are compared; candidates are confirmed
with their true shingle Jaccard. The first occurrence is kept and remembers the documents it stands for.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterator

import numpy as np

from embedtune.corpus.chunk import Chunk

SHINGLE_WORDS = 3
BANDS, ROWS = 16, 8  # 128 hashes; a pair at Jaccard 0.9 shares a band with probability > 0.9999
_WORD = re.compile(r"\w+")
_rng = np.random.default_rng(20240611)  # fixed: signatures (and so results) identical on every run
_A = _rng.integers(1, 2**63, BANDS * ROWS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, BANDS * ROWS, dtype=np.uint64)
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def shingles(text: str) -> np.ndarray:
    """Sorted unique 64-bit hashes of the word 3-grams of ``text`` (its words, when shorter)."""
    words = np.array([zlib.crc32(w.encode()) for w in _WORD.findall(normalise(text))], dtype=np.uint64)
    if len(words) < SHINGLE_WORDS:
        return np.unique(words)
    grams = sum(words[k : len(words) - SHINGLE_WORDS + 1 + k] * _MIX[k] for k in range(SHINGLE_WORDS))
    return np.unique(grams)


def minhash(sh: np.ndarray) -> np.ndarray:
    """128 min-hashes (multiply-shift universal hashing; uint64 arithmetic wraps by design)."""
    return ((sh[:, None] * _A + _B) >> np.uint64(32)).min(axis=0)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def _bands(signature: np.ndarray) -> Iterator[tuple[int, bytes]]:
    for band in range(BANDS):
        yield band, signature[band * ROWS : (band + 1) * ROWS].tobytes()


def deduplicate(chunks: list[Chunk], threshold: float = 0.9) -> tuple[list[Chunk], int, int]:
    """``(kept, exact_duplicates, near_duplicates)``; kept chunks list dropped ones' doc ids."""
    exact: dict[bytes, Chunk] = {}
    buckets: dict[tuple[int, bytes], list[int]] = {}
    kept: list[Chunk] = []
    kept_shingles: list[np.ndarray] = []
    n_exact = n_near = 0
    for chunk in chunks:
        key = hashlib.sha1(normalise(chunk.body).encode()).digest()
        original = exact.get(key)
        if original is None:
            sh = shingles(chunk.body)
            bands = list(_bands(minhash(sh))) if len(sh) else []
            candidates = {j for b in bands for j in buckets.get(b, ())}
            original = next((kept[j] for j in sorted(candidates) if jaccard(sh, kept_shingles[j]) >= threshold), None)
            if original is None:
                exact[key] = chunk
                for b in bands:
                    buckets.setdefault(b, []).append(len(kept))
                kept.append(chunk)
                kept_shingles.append(sh)
                continue
            n_near += 1
        else:
            n_exact += 1
        if chunk.doc_id != original.doc_id and chunk.doc_id not in original.duplicate_doc_ids:
            original.duplicate_doc_ids.append(chunk.doc_id)
    return kept, n_exact, n_near
