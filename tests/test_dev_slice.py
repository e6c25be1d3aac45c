"""The dev slice holds what training saw (no copied text) and BM25 near misses (issue 22, item 5)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from embedtune.dataset.dev_slice import build_dev_slice


@dataclass
class Pair:
    query_id: str
    query: str
    positive_ids: tuple[str, ...]
    positive_text: str | None = None


def _filler(n: int, seed: int = 0) -> dict[str, str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(400)]
    return {f"f{i}": " ".join(rng.choices(words, k=30)) for i in range(n)}


def test_a_title_query_meets_its_chunk_without_the_title():
    title = "Aspirin lowers stroke risk in older adults"
    texts = {"c1": f"{title}\nA cohort of 4,000 patients was followed for ten years.", **_filler(50)}
    cut = "A cohort of 4,000 patients was followed for ten years."
    pair = Pair("q1", title, ("c1",), positive_text=cut)
    dev = build_dev_slice([pair], texts, hard_per_query=0)
    assert dev is not None
    assert dev.corpus["c1"] == cut  # the query is not found verbatim in its positive
    assert dev.relevant == {"q1": {"c1"}}


def test_only_one_query_rewrites_a_chunk():
    texts = {"c1": "Title one\nfirst sentence. second sentence.", **_filler(20)}
    pairs = [Pair("a", "Title one", ("c1",), "first sentence. second sentence."),
             Pair("b", "first sentence.", ("c1",), "Title one\nsecond sentence.")]
    dev = build_dev_slice(pairs, texts, hard_per_query=0)
    assert dev is not None and len(dev.queries) == 1
    (kept,) = dev.queries
    assert dev.corpus["c1"] == {p.query_id: p.positive_text for p in pairs}[kept]


def test_near_misses_are_in_the_corpus_and_random_fill_respects_the_size():
    texts = {
        "pos": "statin therapy reduces cholesterol in diabetic patients",
        "near": "statin therapy and cholesterol in diabetic mice",  # shares the query's words, not relevant
        **_filler(500),
    }
    pair = Pair("q", "statin cholesterol diabetic", ("pos",))
    dev = build_dev_slice([pair], texts, max_corpus=10, hard_per_query=1)
    assert dev is not None
    assert {"pos", "near"} <= set(dev.corpus)
    assert len(dev.corpus) == 10
    without = build_dev_slice([pair], texts, max_corpus=10, hard_per_query=0, seed=0)
    assert without is not None and "near" not in without.corpus  # random fill alone (almost surely) misses it


def test_seeded_and_capped():
    texts = _filler(300)
    pairs = [Pair(f"q{i}", texts[f"f{i}"][:40], (f"f{i}",)) for i in range(100)]
    a = build_dev_slice(pairs, texts, seed=3, max_queries=20, max_corpus=80)
    b = build_dev_slice(pairs, texts, seed=3, max_queries=20, max_corpus=80)
    assert a == b and a is not None
    assert len(a.queries) == 20 and len(a.corpus) == 80
    assert build_dev_slice([Pair("x", "q", ("missing",))], texts) is None
