"""Exact and near-duplicate chunks are dropped and counted; distinct and merely overlapping ones are kept."""

from __future__ import annotations

import random
import time

from conftest import sample_texts

from embedtune.corpus.chunk import Chunk
from embedtune.corpus.dedup import deduplicate, jaccard, shingles


def chunk(doc_id: str, text: str, title: str = "") -> Chunk:
    full = f"{title}\n{text}" if title else text
    return Chunk(id=doc_id, doc_id=doc_id, title=title, text=full, source="s", start_char=0, end_char=len(text),
                 n_tokens=1, title_included=bool(title))


def test_exact_duplicates_ignore_case_whitespace_and_title():
    texts = sample_texts(3)
    chunks = [chunk("a", texts[0]), chunk("b", texts[1]), chunk("c", "  " + texts[0].upper().replace(" ", "\n ")),
              chunk("d", texts[0], title="Another title")]
    kept, exact, near = deduplicate(chunks)
    assert [c.doc_id for c in kept] == ["a", "b"] and (exact, near) == (2, 0)
    assert kept[0].duplicate_doc_ids == ["c", "d"]


def test_near_duplicates_above_threshold_only():
    base = sample_texts(1)[0].split()
    one_word = base.copy()
    one_word[len(base) // 2] = "zebra"
    half = base[: len(base) // 2] + sample_texts(2)[1].split()[: len(base) // 2]
    chunks = [chunk("a", " ".join(base)), chunk("b", " ".join(one_word)), chunk("c", " ".join(half))]
    assert jaccard(shingles(chunks[0].text), shingles(chunks[1].text)) >= 0.9
    kept, exact, near = deduplicate(chunks)
    assert [c.doc_id for c in kept] == ["a", "c"] and (exact, near) == (0, 1)
    assert kept[0].duplicate_doc_ids == ["b"]
    # With a stricter threshold the one-word edit is kept.
    assert len(deduplicate([chunk("a", " ".join(base)), chunk("b", " ".join(one_word))], threshold=0.99)[0]) == 2


def test_overlapping_neighbours_and_a_real_corpus_are_kept():
    words = " ".join(sample_texts(1)).split()
    step = int(len(words) * 0.4)
    neighbours = [chunk(f"n{i}", " ".join(words[i * step : i * step + step * 2])) for i in range(2)]
    texts = sample_texts(400)
    kept, exact, near = deduplicate(neighbours + [chunk(str(i), t) for i, t in enumerate(texts)])
    assert (exact, near) == (0, 0) and len(kept) == 402


def test_linear_time_on_many_chunks():
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(5000)]
    chunks = [chunk(str(i), " ".join(rng.choices(vocab, k=60))) for i in range(5000)]
    chunks += [chunk(f"dup{i}", c.text + " extra") for i, c in enumerate(chunks[:50])]
    t0 = time.perf_counter()
    kept, exact, near = deduplicate(chunks)
    assert (len(kept), exact, near) == (5000, 0, 50)
    assert time.perf_counter() - t0 < 10  # pairwise comparison would be 12.5M Jaccards
