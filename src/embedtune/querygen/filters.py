"""Quality filters for synthetic queries, applied in order; every drop is counted by reason.

What each one removes, cheapest first:

- ``empty`` / ``too_short`` / ``too_long``: degenerate generations (word and character bounds).
- ``meta``: questions about the text rather than its subject ("What is the purpose of this passage?", "What
  did this study find?"); no real user asks them. LLM queries only.
- ``copy``: a query that mostly copies the passage (share of its word n-grams found in the passage). LLM
  queries only: offline signals are extractive by design.
- ``duplicate``: the same normalised text again (the first one is kept).
- ``contamination``: near-identical to an eval query (same words, Jaccard >= threshold, or cosine >= threshold):
  training on it would inflate the eval score.
- ``round_trip``: the query's own passage is not in the top-k that BM25 (or the base model) retrieves for it
  from the whole corpus; such queries are usually too vague to identify their passage. Round-trip consistency
  filtering follows InPars (Bonifacio et al. 2022) and Promptagator (Dai et al. 2022). A query whose positive
  differs from its chunk (inverse cloze, heading, title) is checked against an index of those positives, since
  the chunk itself contains the query verbatim and would always pass.
- ``near_duplicate``: cosine >= threshold with an already kept query (same chunk or another), using the base
  embedding model; searched with a flat inner-product index grown in blocks, so memory is one vector per kept
  query rather than a full similarity matrix.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from embedtune.corpus.chunk import Chunk
from embedtune.dataset.leakage import find_near_duplicates
from embedtune.errors import EmbedtuneError
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.querygen.query import Query
from embedtune.retrieval.base import Document, Retriever

if TYPE_CHECKING:
    from embedtune.retrieval.runner import Runner

FILTERS = (
    "empty", "too_short", "too_long", "meta", "copy", "duplicate", "contamination", "round_trip", "near_duplicate",
)
# "this passage", "the excerpt", "the answer to this question"; not "the document retention policy".
_META = re.compile(
    r"\b(?:this|that|above|given|following)\s+"
    r"(?:passage|text|article|paragraph|excerpt|document|snippet|study|paper|research|abstract)\b"
    r"|\bthe\s+(?:passage|excerpt|snippet|paragraph)\b|\banswer\s+to\s+(?:this|the)\s+question\b",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^\w\s]")
BLOCK = 1024


class FilterConfig(BaseModel):
    """Thresholds of the filters; ``None`` or ``"none"`` turns one off."""

    min_chars: int = Field(default=8, description="Shorter queries are dropped as too_short.")
    min_words: int = Field(default=2, description="Fewer words: too_short.")
    max_words: int = Field(default=64, description="More words: too_long.")
    drop_meta: bool = Field(default=True, description="Drop LLM questions about 'the passage' rather than its subject.")
    copy_ngram: int = Field(default=4, description="Word n-gram size of the copy test.")
    copy_threshold: float | None = Field(default=0.9, description="Drop LLM queries with this share of n-grams in the passage.")
    round_trip: Literal["bm25", "dense", "none"] = Field(default="bm25", description="Retriever of the round-trip test.")
    round_trip_k: int = Field(default=10, description="Keep a query only if its passage ranks in this top-k.")
    near_duplicate: float | None = Field(default=0.95, description="Cosine at or above which a query duplicates a kept one.")
    contamination_cosine: float = Field(default=0.9, description="Cosine to an eval query at or above which a query is dropped.")
    contamination_jaccard: float = Field(default=0.8, description="Word-set Jaccard to an eval query at or above which it is dropped.")
    encoder: str | None = Field(
        default=DEFAULT_MODEL,
        description="Base embedding model for near-duplicates, contamination and dense round trips; None: lexical only.",
    )


@dataclass
class FilterResult:
    """Queries kept, queries dropped with the filter that dropped them, and contamination examples."""

    kept: list[Query]
    rejected: list[tuple[Query, str]] = field(default_factory=list)
    contamination: list[dict[str, str]] = field(default_factory=list)


def normalize(text: str) -> str:
    """Casefolded words without punctuation: the identity used for exact duplicates."""
    return " ".join(_NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


def length_reason(text: str, config: FilterConfig) -> str | None:
    """``empty``, ``too_short`` or ``too_long``, or None when the length is fine."""
    words = len(text.split())
    if not text.strip():
        return "empty"
    if len(text.strip()) < config.min_chars or words < config.min_words:
        return "too_short"
    return "too_long" if words > config.max_words else None


def is_meta(text: str) -> bool:
    """True for questions about the document itself ("this passage", "the authors")."""
    return bool(_META.search(text))


def copy_ratio(query: str, passage: str, n: int = 4) -> float:
    """Share of the query's word n-grams that occur in the passage (0 for queries shorter than n words)."""
    q, p = normalize(query).split(), normalize(passage).split()
    grams = {tuple(q[i : i + n]) for i in range(len(q) - n + 1)}
    if not grams:
        return 0.0
    passage_grams = {tuple(p[i : i + n]) for i in range(len(p) - n + 1)}
    return len(grams & passage_grams) / len(grams)


def _from_llm(query: Query) -> bool:
    # Offline signals are extractive on purpose: copying and talking about the text are LLM failure modes.
    return query.backend != "offline"


def chunk_document(chunk: Chunk) -> Document:
    return Document(id=chunk.id, text=chunk.body, title=chunk.title)


def positive_passage(query: Query, chunk: Chunk) -> str:
    """The text the query is paired with for training."""
    return query.positive_text if query.positive_text is not None else chunk.text


def round_trip_ranks(
    queries: Sequence[Query], chunks: Sequence[Chunk], retriever: Retriever, k: int
) -> list[int | None]:
    """1-based rank of each query's own passage (or a related chunk, for multi-hop) in the top-``k``, else None.

    Queries with a ``positive_text`` are searched in an index where their chunks hold those positives instead
    (one index per style), so inverse-cloze sentences cannot find the chunk they were cut from.
    """
    base_docs = [chunk_document(c) for c in chunks]
    groups: dict[str | None, list[int]] = defaultdict(list)
    for i, q in enumerate(queries):
        groups[q.style if q.positive_text is not None else None].append(i)
    ranks: list[int | None] = [None] * len(queries)
    for style, members in groups.items():
        docs = base_docs
        if style is not None:
            replaced = {}
            for i in members:
                replaced.setdefault(queries[i].chunk_id, queries[i].positive_text)
            docs = [Document(id=d.id, text=replaced[d.id], title="") if d.id in replaced else d for d in base_docs]
        retriever.index(docs)
        run = retriever.search({str(i): queries[i].text for i in members}, k=k)
        for i in members:
            scores = run.get(str(i), {})
            order = sorted(scores, key=lambda d: (-scores[d], d))
            targets = {queries[i].chunk_id, *queries[i].related_chunk_ids}
            ranks[i] = next((r for r, d in enumerate(order, 1) if d in targets), None)
    return ranks


def near_duplicate_mask(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """True for rows whose cosine with an earlier kept row is >= ``threshold`` (rows L2-normalised).

    Greedy in input order; kept rows go into a flat inner-product index block by block, so memory grows with
    the kept vectors, never with the square of their number.
    """
    import faiss

    drop = np.zeros(len(vectors), dtype=bool)
    if len(vectors) == 0:
        return drop
    index = faiss.IndexFlatIP(vectors.shape[1])
    for start in range(0, len(vectors), BLOCK):
        block = np.ascontiguousarray(vectors[start : start + BLOCK], dtype=np.float32)
        if index.ntotal:
            best, _ = index.search(block, 1)
            drop[start : start + len(block)] = best[:, 0] >= threshold
        within = block @ block.T
        keep: list[int] = []
        for i in range(len(block)):
            if drop[start + i]:
                continue
            if keep and within[i, keep].max() >= threshold:
                drop[start + i] = True
            else:
                keep.append(i)
        if keep:
            index.add(block[keep])
    return drop


def apply_filters(
    queries: Sequence[Query],
    chunks: Sequence[Chunk],
    config: FilterConfig | None = None,
    *,
    eval_queries: Sequence[str] = (),
    retriever: Retriever | None = None,
    encoder: Any = None,
    runner: Runner | None = None,
) -> FilterResult:
    """Run every filter in order over ``queries`` (each dropped by the first filter it fails).

    Args:
        chunks: the whole corpus (round trips search all of it).
        eval_queries: texts of eval queries that must not leak into training.
        retriever: round-trip retriever; default per ``config.round_trip`` (BM25, or dense with the encoder).
        encoder: a loaded SentenceTransformer; default loaded from ``config.encoder`` when a filter needs it.
        runner: loads that default encoder (its inference backend); None: ``load_embedder``'s default.
    """
    cfg = config or FilterConfig()
    by_id = {c.id: c for c in chunks}
    result = FilterResult(kept=[])
    pending = list(queries)

    def stage(check: Callable[[int, Query], str | None]) -> None:
        """Drop every pending query for which ``check(index, query)`` names a reason."""
        nonlocal pending
        survivors = []
        for i, q in enumerate(pending):
            if reason := check(i, q):
                result.rejected.append((q, reason))
            else:
                survivors.append(q)
        pending = survivors

    stage(lambda i, q: length_reason(q.text, cfg))
    if cfg.drop_meta:
        stage(lambda i, q: "meta" if _from_llm(q) and is_meta(q.text) else None)
    if cfg.copy_threshold is not None:
        threshold = cfg.copy_threshold
        stage(lambda i, q: "copy" if _from_llm(q) and copy_ratio(
            q.text, positive_passage(q, by_id[q.chunk_id]), cfg.copy_ngram) >= threshold else None)
    seen: set[str] = set()

    def duplicate(i: int, q: Query) -> str | None:
        key = normalize(q.text)
        if key in seen:
            return "duplicate"
        seen.add(key)
        return None

    stage(duplicate)

    # One encoding of the surviving queries serves the contamination and near-duplicate checks.
    vectors: np.ndarray | None = None
    row_of: dict[int, int] = {}
    if cfg.encoder is not None and (cfg.near_duplicate is not None or eval_queries) and pending:
        from embedtune.retrieval import encode_texts

        if encoder is None:
            from embedtune.retrieval.runner import LOCAL

            encoder = (runner or LOCAL).load_embedder(cfg.encoder)
        vectors = encode_texts(encoder, [q.text for q in pending], "query", description="embedding queries")
        row_of = {id(q): i for i, q in enumerate(pending)}

    if eval_queries:
        contaminated = _contamination(pending, list(eval_queries), cfg, encoder, vectors)
        result.contamination = [
            {"query": pending[i].text, "eval_query": eval_queries[j], "style": pending[i].style}
            for i, j in sorted(contaminated.items())
        ]
        stage(lambda i, q: "contamination" if i in contaminated else None)

    if cfg.round_trip != "none" and pending:
        if retriever is None:
            retriever = _default_retriever(cfg, encoder, runner)
        ranks = round_trip_ranks(pending, chunks, retriever, cfg.round_trip_k)
        stage(lambda i, q: "round_trip" if ranks[i] is None else None)

    if cfg.near_duplicate is not None and vectors is not None and pending:
        dup = near_duplicate_mask(vectors[[row_of[id(q)] for q in pending]], cfg.near_duplicate)
        stage(lambda i, q: "near_duplicate" if dup[i] else None)

    result.kept = pending
    return result


def _contamination(
    queries: Sequence[Query], eval_texts: list[str], cfg: FilterConfig, encoder: Any, vectors: np.ndarray | None
) -> dict[int, int]:
    """Query index -> index of the eval query it nearly copies (same words, or cosine over the threshold)."""
    hits = {j: i for i, j in find_near_duplicates(eval_texts, [q.text for q in queries], cfg.contamination_jaccard)}
    if vectors is not None:
        from embedtune.retrieval import encode_texts

        eval_vecs = encode_texts(encoder, eval_texts, "query", description="embedding eval queries")
        for start in range(0, len(vectors), BLOCK):  # blocks: never a full queries x eval matrix
            sims = vectors[start : start + BLOCK] @ eval_vecs.T
            best = sims.argmax(axis=1)
            for row, j in enumerate(best):
                if sims[row, j] >= cfg.contamination_cosine:
                    hits.setdefault(start + row, int(j))
    return hits


def _default_retriever(cfg: FilterConfig, encoder: Any, runner: Runner | None) -> Retriever:
    if cfg.round_trip == "dense":
        from embedtune.retrieval import DenseRetriever
        from embedtune.retrieval.runner import LOCAL

        if cfg.encoder is None:
            raise EmbedtuneError("a dense round trip needs an embedding model: set FilterConfig.encoder")
        return DenseRetriever(encoder or (runner or LOCAL).load_embedder(cfg.encoder), cache=False, label=cfg.encoder)
    from embedtune.retrieval import BM25Retriever

    return BM25Retriever()
