"""Token-aware chunking with semantic-text-splitter: largest paragraph / sentence / heading units that fit.

Every chunk, with its title line and the model's special tokens, fits the model's sequence limit: the
splitter's capacity is shrunk by each document's title, and the composed texts are counted again with
the real tokenizer (a document whose chunks still overflow, as merged BPE tokens can, is re-split smaller).

The splitter slows down faster than the text grows (a 4 MB line without punctuation took minutes), so a
document longer than ``SEGMENT_CHARS`` is first cut into segments of about that size at a paragraph, line,
sentence or word boundary, and each is split on its own: time stays linear in size, and the only cost is
that no chunk overlaps across a segment cut (one cut per ~50,000 characters).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from semantic_text_splitter import MarkdownSplitter, TextSplitter

from embedtune.corpus.chunk import Chunk
from embedtune.corpus.document import Document
from embedtune.corpus.tokenizer import ModelTokenizer
from embedtune.errors import EmbedtuneError
from embedtune.hashing import sha256_text

OVERLAP_SHARE = 0.15  # enough context carried across a cut without bloating the index
TITLE_SHARE = 8  # room kept for the title line by default: 1/8 of the limit (32 of MiniLM's 256 tokens)
MAX_TITLE_SHARE = 4  # longer titles are cut to 1/4 of the limit so the body keeps most of it
SEGMENT_CHARS = 50_000  # well inside the splitter's linear range, and hundreds of chunks long
_BATCH_CHARS = 2_000_000  # characters per splitter call: progress is reported between calls
_CUTS = ("\n\n", "\n", ". ", " ")  # best boundaries first


def segments(text: str, size: int = SEGMENT_CHARS) -> list[tuple[int, str]]:
    """``(start, piece)`` of ``text`` in pieces of at most ``size`` characters, cut at the best boundary in the
    second half of each window (a hard cut only when it holds no space at all)."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > size:
        end = start + size
        cut = next((i + len(sep) for sep in _CUTS if (i := text.rfind(sep, start + size // 2, end)) != -1), end)
        out.append((start, text[start:cut]))
        start = cut
    out.append((start, text[start:]))
    return out


@dataclass(frozen=True)
class ChunkSizes:
    chunk_tokens: int
    overlap_tokens: int


def chunk_sizes(
    tok: ModelTokenizer, chunk_tokens: int | None, overlap_tokens: int | None, with_title: bool
) -> ChunkSizes:
    """Sizes to use: defaults derived from the model limit; user values checked against it."""
    room = tok.max_tokens - tok.n_special
    size = chunk_tokens or (room - tok.max_tokens // TITLE_SHARE if with_title else room)
    if size > room:
        raise EmbedtuneError(
            f"chunk_tokens={size} does not fit {tok.name}: at most {room} tokens (limit {tok.max_tokens} "
            f"less {tok.n_special} special tokens)"
        )
    overlap = round(size * OVERLAP_SHARE) if overlap_tokens is None else overlap_tokens
    if overlap >= size:
        raise EmbedtuneError(f"overlap_tokens={overlap} must be smaller than the chunk size ({size})")
    return ChunkSizes(size, overlap)


def _batches(parts: list[tuple[int, int, str]]) -> list[list[tuple[int, int, str]]]:
    """``parts`` in consecutive runs of about ``_BATCH_CHARS`` characters."""
    batches: list[list[tuple[int, int, str]]] = [[]]
    size = 0
    for part in parts:
        if batches[-1] and size + len(part[2]) > _BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(part)
        size += len(part[2])
    return batches


def chunk_id(doc_id: str, page: int | None, index: int, text: str) -> str:
    """Stable id: same document, position and text give the same id on every run and machine."""
    return sha256_text(f"{doc_id}\x00{page or ''}\x00{index}\x00{text}")[:16]


class Chunker:
    """Splits documents into chunks that fit ``tok``'s limit; reuse one for a whole corpus."""

    def __init__(
        self, tok: ModelTokenizer, sizes: ChunkSizes, include_title: bool = True, min_tokens: int = 0,
        progress: Callable[[int], None] | None = None,
    ):
        """``progress(characters)`` is called as long documents' segments are split."""
        self.progress = progress
        self.tok = tok
        self.sizes = sizes
        self.include_title = include_title
        self.min_tokens = min_tokens
        self._splitters: dict[tuple[bool, int], TextSplitter | MarkdownSplitter] = {}

    def _splitter(self, markdown: bool, capacity: int) -> TextSplitter | MarkdownSplitter:
        key = (markdown, capacity)
        if key not in self._splitters:
            cls = MarkdownSplitter if markdown else TextSplitter
            overlap = min(self.sizes.overlap_tokens, capacity // 2)
            self._splitters[key] = cls.from_huggingface_tokenizer(self.tok.tokenizer, capacity, overlap=overlap)
        return self._splitters[key]

    def _title_line(self, doc: Document) -> str:
        title = re.sub(r"\s+", " ", doc.title).strip()
        if not self.include_title or not title or title == doc.text.strip():
            return ""
        return self.tok.truncate(title, self.tok.max_tokens // MAX_TITLE_SHARE) + "\n"

    @staticmethod
    def _compose(prefix: str, body: str) -> str:
        """Title line + body, unless the body already opens with the title as a heading (md, html)."""
        if prefix and body.startswith("#") and body.split("\n", 1)[0].lstrip("#").strip() == prefix.strip():
            return body
        return prefix + body

    def _split(self, docs: list[Document], capacity: list[int], which: list[int]) -> dict[int, list]:
        """``(start_char, body)`` pieces of the documents ``which``, split in batches per group of equal settings."""
        groups: defaultdict[tuple[bool, int], list[int]] = defaultdict(list)
        for i in which:
            if capacity[i] < 1:
                raise EmbedtuneError(f"{docs[i].source}: cannot fit a chunk within {self.tok.max_tokens} tokens")
            groups[docs[i].markdown, capacity[i]].append(i)
        out: dict[int, list] = {}
        for (markdown, cap), members in groups.items():
            parts = [(i, offset, piece) for i in members for offset, piece in segments(docs[i].text, SEGMENT_CHARS)]
            split: list = []
            for batch in _batches(parts):
                split += self._splitter(markdown, cap).chunk_all_indices([piece for _, _, piece in batch])
                if self.progress is not None:
                    self.progress(sum(len(piece) for _, _, piece in batch))
            for i in members:
                out[i] = []
            for (i, offset, _), pieces in zip(parts, split, strict=True):
                out[i] += [(offset + start, body) for start, body in pieces]
        return out

    def chunk(self, docs: list[Document]) -> tuple[list[Chunk], int]:
        """Chunks of ``docs`` in order, and how many fragments under ``min_tokens`` were dropped."""
        prefixes = [self._title_line(d) for d in docs]
        # Tokens a title line adds: measured in front of a one-token word, so specials are not counted twice.
        probes = self.tok.count([p + "x" for p in prefixes])
        prefix_tokens = [n - self.tok.n_special - 1 if p else 0 for p, n in zip(prefixes, probes, strict=True)]
        room = self.tok.max_tokens - self.tok.n_special
        capacity = [min(self.sizes.chunk_tokens, room - n) for n in prefix_tokens]
        pieces: dict[int, list[tuple[int, str]]] = {}
        counts: dict[int, list[int]] = {}
        pending = list(range(len(docs)))
        while pending:
            pieces.update(self._split(docs, capacity, pending))
            flat = iter(self.tok.count([self._compose(prefixes[i], body) for i in pending for _, body in pieces[i]]))
            overflowing = []
            for i in pending:
                counts[i] = [next(flat) for _ in pieces[i]]
                over = max(counts[i], default=0) - self.tok.max_tokens
                if over > 0:
                    capacity[i] -= over
                    overflowing.append(i)
            pending = overflowing
        return self._assemble(docs, prefixes, prefix_tokens, pieces, counts)

    def _assemble(
        self,
        docs: list[Document],
        prefixes: list[str],
        prefix_tokens: list[int],
        pieces: dict[int, list[tuple[int, str]]],
        counts: dict[int, list[int]],
    ) -> tuple[list[Chunk], int]:
        per_doc = Counter(d.doc_id for i, d in enumerate(docs) for _ in pieces[i])
        next_index: defaultdict[tuple[str, int | None], int] = defaultdict(int)
        chunks: list[Chunk] = []
        dropped = 0
        for i, doc in enumerate(docs):
            for (start, body), n_tokens in zip(pieces[i], counts[i], strict=True):
                index = next_index[doc.doc_id, doc.page]
                next_index[doc.doc_id, doc.page] += 1
                text = self._compose(prefixes[i], body)
                body_tokens = n_tokens - self.tok.n_special - (prefix_tokens[i] if text != body else 0)
                # A tiny fragment (a page number, a lone heading) is noise, unless it is all the document has.
                if body_tokens < self.min_tokens and per_doc[doc.doc_id] > 1:
                    dropped += 1
                    continue
                chunks.append(
                    Chunk(
                        id=chunk_id(doc.doc_id, doc.page, index, text),
                        doc_id=doc.doc_id,
                        title=doc.title,
                        text=text,
                        source=doc.source,
                        start_char=start,
                        end_char=start + len(body),
                        page=doc.page,
                        n_tokens=n_tokens,
                        title_included=text != body,
                    )
                )
        return chunks, dropped
