"""Bytes to text: UTF-8 first, then a detected encoding; binary, empty and undecodable files are refused.

Organisations' documents are often legacy Windows code pages; decoding them as Latin-1 silently would
embed mojibake, so the encoding is detected (charset-normalizer) and reported for every non-UTF-8 file.
Short Western text fits many code pages equally well (the detector may pick cp1250 and turn "crème" into
"crčme"), so when Windows-1252 / Latin-1 is among the equally good guesses it wins: it is by far the most
common legacy encoding. ``ingest.encoding`` (``--encoding``) replaces the guess when you know better.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from embedtune.corpus.skips import BINARY, EMPTY, UNDECODABLE, UNREADABLE, Skipped

_SNIFF = 8192
_TIE = 0.01  # detector "chaos" scores this close count as equally good guesses
_WESTERN = ("cp1252", "latin_1")  # preferred among equals, in this order
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


def _guess(data: bytes, path: Path) -> tuple[str, str]:
    """Detected ``(text, encoding)`` of non-UTF-8 bytes, Western European first among equal guesses."""
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise Skipped(path, UNDECODABLE, "not UTF-8 and no text encoding fits")
    if {m.encoding for m in matches if m.chaos <= best.chaos + _TIE} & set(_WESTERN):
        for encoding in _WESTERN:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:  # cp1252 leaves five bytes undefined; Latin-1 decodes anything
                continue
    return str(best), best.encoding


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` with newlines normalised to ``\\n``; raises Skipped for unusable bytes.

    ``encoding``: what to read non-UTF-8 bytes as, instead of guessing.
    """
    if not data.strip():
        raise Skipped(path, EMPTY)
    bom = next((name for mark, name in _BOMS if data.startswith(mark)), None)
    if bom is None and b"\x00" in data[:_SNIFF]:
        raise Skipped(path, BINARY, "contains NUL bytes")
    try:
        text = data.decode(bom or "utf-8-sig")
        encoding = bom or "utf-8"
    except UnicodeDecodeError:
        if encoding is None:
            text, encoding = _guess(data, path)
        else:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as e:
                raise Skipped(path, UNDECODABLE, f"neither UTF-8 nor {encoding} (byte {e.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Skipped(path, EMPTY, "only whitespace")
    return text, encoding


def read_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file; see :func:`decode`."""
    return decode(read_bytes(path), path, encoding)
