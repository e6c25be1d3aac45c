"""Bytes to text: UTF-8 first, then a detected encoding; binary, empty and undecodable files are refused.

Organisations' documents are often legacy Windows code pages; decoding them as Latin-1 silently would
embed mojibake, so the encoding is detected (charset-normalizer) and reported for every non-UTF-8 file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from embedtune.corpus.skips import BINARY, EMPTY, UNDECODABLE, UNREADABLE, Skipped

_SNIFF = 8192
# UTF-16/32 text is full of NUL bytes; a BOM tells it apart from binary data. Longest BOMs first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise Skipped(path, UNREADABLE, e.strerror or type(e).__name__) from None


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """``(text, encoding)`` with newlines normalised to ``\\n``; raises Skipped for unusable bytes."""
    if not data.strip():
        raise Skipped(path, EMPTY)
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data[:_SNIFF]:
        raise Skipped(path, BINARY, "contains NUL bytes")
    try:
        text = data.decode(encoding or "utf-8-sig")
        encoding = encoding or "utf-8"
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            raise Skipped(path, UNDECODABLE, "not UTF-8 and no text encoding fits") from None
        text, encoding = str(best), best.encoding
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Skipped(path, EMPTY, "only whitespace")
    return text, encoding


def read_text(path: Path) -> tuple[str, str]:
    """Decode a text file; see :func:`decode`."""
    return decode(read_bytes(path), path)
