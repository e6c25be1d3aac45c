"""Query/passage pairs mined from the documents themselves, with no LLM: instant, free, and always available.

- ``title``: a document's title as the query for its first chunk's body (the pairs that sentence-transformers'
  training data mines from S2ORC, Wikipedia, StackExchange titles).
- ``heading``: a section heading as the query for the section text under it.
- ``inverse_cloze``: Inverse Cloze Task (Lee et al. 2019, "Latent Retrieval for Weakly Supervised Open Domain
  Question Answering"): one sentence is the pseudo-query and the rest of its passage, *with the sentence
  removed*, is the positive; the removal forces the model past exact word matching.
- ``keyphrase``: the chunk's most distinctive phrases (TF-IDF against the whole collection, candidate phrases
  cut at stopwords and punctuation as in RAKE, Rose et al. 2010) joined into a keyword query.

When the passage to train on differs from the chunk as indexed (title + text), the query carries it as
``positive_text``. These signals are weaker than a good LLM's questions (they are extractive, so lexically easy);
they make the pipeline useful with no LLM at all and cover the chunks an LLM budget leaves out.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from bm25s.stopwords import STOPWORDS_EN_PLUS

from embedtune.corpus.chunk import Chunk
from embedtune.querygen.query import Query, query_id

BACKEND = "offline"
STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*[A-Za-z0-9]|[A-Za-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_PHRASE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”/|\n]+")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVXivx]+\.|[A-Z]\.)\s+")
_FILE_LIKE = re.compile(r"\.\w{2,4}$|^[^\s]*[_\-][^\s]*$")
# Headings that name a part of every document, not what this one is about.
GENERIC_HEADINGS = frozenset(
    "abstract introduction background methods method materials and methods results discussion conclusion "
    "conclusions summary overview references bibliography acknowledgements acknowledgments appendix contents "
    "table of contents related work future work limitations preface foreword index glossary notes".split(" ")
) | {
    "materials and methods", "table of contents", "related work", "future work", "results and discussion",
}
MIN_SECTION_WORDS = 15
ICT_SENTENCE_WORDS = (6, 40)


def _make(chunk: Chunk, text: str, style: str, positive_text: str | None) -> Query:
    return Query(
        id=query_id(chunk.id, style, BACKEND, text), text=text, chunk_id=chunk.id, doc_id=chunk.doc_id,
        style=style, backend=BACKEND, positive_text=positive_text,
    )


def _as_chunk_text(chunk: Chunk, body: str) -> str:
    """``body`` laid out as the chunk's own text is (title line first when ingest included it)."""
    return f"{chunk.title}\n{body}" if chunk.title_included else body


def _title_and_body(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.body}" if chunk.title.strip() else chunk.body


def title_queries(chunks: Sequence[Chunk]) -> list[Query]:
    """Each document's title -> the body of its first chunk (titles that look like file names are skipped)."""
    first: dict[str, Chunk] = {}
    for chunk in chunks:
        if chunk.doc_id not in first or chunk.start_char < first[chunk.doc_id].start_char:
            first[chunk.doc_id] = chunk
    out = []
    for chunk in first.values():
        title = " ".join(chunk.title.split())
        if not title or _FILE_LIKE.search(title):
            continue
        body = chunk.body.strip()
        if body.lower().startswith(title.lower()):  # some sources repeat the title as the first line
            body = body[len(title) :].lstrip(" .:-\n")
        if body:
            out.append(_make(chunk, title, "title", body))
    return out


def _headings(text: str) -> list[tuple[str, str]]:
    """(heading, section text) pairs: markdown headings, or short unpunctuated lines before a paragraph."""
    lines = text.splitlines()
    marks: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if m := _MD_HEADING.match(line):
            marks.append((i, m.group(1)))
            continue
        s = line.strip()
        following = next((x.strip() for x in lines[i + 1 :] if x.strip()), "")
        if (
            s and len(s.split()) <= 10 and s[-1] not in ".,;:?!" and (s[0].isupper() or s[0].isdigit())
            and (i == 0 or not lines[i - 1].strip()) and len(following.split()) >= 8
        ):
            marks.append((i, s))
    out = []
    for j, (i, heading) in enumerate(marks):
        end = marks[j + 1][0] if j + 1 < len(marks) else len(lines)
        section = " ".join(" ".join(lines[i + 1 : end]).split())
        out.append((_NUMBERING.sub("", heading).strip(), section))
    return out


def heading_queries(chunks: Sequence[Chunk]) -> list[Query]:
    """Every specific section heading -> the text under it (up to the next heading, within the chunk)."""
    out = []
    for chunk in chunks:
        for heading, section in _headings(chunk.body):
            if (
                len(section.split()) >= MIN_SECTION_WORDS
                and heading.lower() not in GENERIC_HEADINGS
                and heading.lower() != chunk.title.strip().lower()
            ):
                out.append(_make(chunk, heading, "heading", section))
    return out


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def inverse_cloze_queries(chunks: Sequence[Chunk], seed: int = 0) -> list[Query]:
    """One sentence per chunk (of 3 or more sentences) -> the chunk with that sentence removed."""
    lo, hi = ICT_SENTENCE_WORDS
    out = []
    for chunk in chunks:
        sentences = split_sentences(chunk.body)
        if len(sentences) < 3:
            continue
        eligible = [i for i, s in enumerate(sentences) if lo <= len(s.split()) <= hi]
        if not eligible:
            continue
        pick = random.Random(f"{seed}:{chunk.id}").choice(eligible)
        rest = " ".join(s for i, s in enumerate(sentences) if i != pick)
        out.append(_make(chunk, sentences[pick], "inverse_cloze", _as_chunk_text(chunk, rest)))
    return out


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _candidate_phrases(text: str, max_words: int = 3) -> list[str]:
    """Runs of content words between stopwords and punctuation, cut to ``max_words`` (surface form kept)."""
    out = []
    for segment in _PHRASE_BREAK.split(text):
        run: list[str] = []
        for word in [*_WORD.findall(segment), ""]:
            if word and word.lower() not in STOPWORDS and len(word) > 2 and not word.isdigit():
                run.append(word)
                continue
            out.extend(" ".join(run[i : i + max_words]) for i in range(0, len(run), max_words))
            run = []
    return out


def keyphrase_queries(chunks: Sequence[Chunk], max_phrases: int = 3, max_words: int = 7) -> list[Query]:
    """The top TF-IDF phrases of each chunk (non-overlapping), joined into one keyword query."""
    docs = [_words(_title_and_body(c)) for c in chunks]
    df = Counter(w for words in docs for w in set(words))
    n_docs = len(docs)
    out = []
    for chunk, words in zip(chunks, docs):
        if len(words) < 20:
            continue
        tf = Counter(words)
        weight = {w: tf[w] * (math.log((n_docs + 1) / (df[w] + 1)) + 1) for w in tf}
        scored: dict[str, float] = {}
        surface: dict[str, str] = {}
        for phrase in _candidate_phrases(_title_and_body(chunk)):
            key = phrase.lower()
            if key in scored:
                continue
            parts = key.split()
            # Mean weight favours phrases whose every word is distinctive; sqrt(len) gives multi-word ones an edge.
            scored[key] = sum(weight.get(w, 0.0) for w in parts) / len(parts) * math.sqrt(len(parts))
            surface[key] = phrase
        chosen: list[str] = []
        used: set[str] = set()
        for key in sorted(scored, key=lambda k: (-scored[k], k)):
            parts = set(key.split())
            if parts & used or sum(len(p.split()) for p in chosen) + len(parts) > max_words:
                continue
            chosen.append(surface[key])
            used |= parts
            if len(chosen) == max_phrases:
                break
        if chosen:
            out.append(_make(chunk, " ".join(chosen), "keyphrase", None))
    return out


SIGNALS: dict[str, Callable[..., list[Query]]] = {
    "title": title_queries,
    "heading": heading_queries,
    "inverse_cloze": inverse_cloze_queries,
    "keyphrase": keyphrase_queries,
}


def offline_queries(chunks: Sequence[Chunk], signals: Sequence[str], seed: int = 0) -> list[Query]:
    """The pairs of every requested signal, in signal order."""
    out: list[Query] = []
    for name in signals:
        fn = SIGNALS[name]
        out.extend(fn(chunks, seed=seed) if name == "inverse_cloze" else fn(chunks))
    return out


def chunks_by_doc(chunks: Sequence[Chunk]) -> dict[str, list[Chunk]]:
    """Each document's chunks in reading order (for neighbours in multi-hop prompts)."""
    docs: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        docs[chunk.doc_id].append(chunk)
    for doc in docs.values():
        doc.sort(key=lambda c: c.start_char)
    return docs
