"""The dev slice: the held-out queries that pick a checkpoint and that the gate judges base against tuned on.

A dev slice that every model aces cannot choose (issue 22: base scored NDCG@10 0.957 on SciFact's). Two things
made it easy, both fixed here:

- **Copied text.** A title or an inverse-cloze sentence is cut from its chunk; training pairs it with the chunk
  *without* it (``positive_text``), but the dev corpus held the whole chunk, so the query was found verbatim.
  Here the dev corpus holds the same ``positive_text`` that training saw (one such query per chunk).
- **Random distractors.** 200 queries against their positives plus random chunks rarely meet a near miss. Here
  each query brings its BM25 top ``hard_per_query`` chunks as distractors; BM25 does not depend on the dense
  models being compared, so the choice favours neither base nor tuned (picking the queries or distractors the
  base model gets wrong would: regression to the mean alone would make any other model look better).

The result is an :class:`EvalSplit`, what training selects checkpoints on and the gate judges on.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class DevPair(Protocol):
    """What the slice needs of a ``dev_pairs.jsonl`` row."""

    query_id: str
    query: str
    positive_ids: Sequence[str]
    positive_text: str | None


@dataclass
class EvalSplit:
    """Held-out queries scored against a corpus: query id -> text, corpus id -> text, query id -> relevant ids."""

    queries: Mapping[str, str]
    corpus: Mapping[str, str]
    relevant: Mapping[str, set[str]]


def build_dev_slice(
    pairs: Sequence[DevPair],
    texts: Mapping[str, str],
    *,
    seed: int = 0,
    max_queries: int = 200,
    max_corpus: int = 1_000,
    hard_per_query: int = 3,
) -> EvalSplit | None:
    """A seeded sample of ``pairs`` against their positives, BM25 near misses and random fill.

    Args:
        pairs: dev rows (``query_id``, ``query``, ``positive_ids``, ``positive_text``).
        texts: chunk id -> text, the whole corpus the distractors come from.
        max_queries / max_corpus: the slice's size (what the gate pays to encode per candidate model).
        hard_per_query: BM25 top-ranked non-relevant chunks added per query (0 = random distractors only).

    Returns:
        The slice, or None when there is no usable dev row.

    Example::

        from embedtune.dataset.dev_slice import build_dev_slice

        slice_ = build_dev_slice(load_pairs("run/dev_pairs.jsonl"), {c.id: c.text for c in load_chunks("run")})
    """
    rng = random.Random(seed)
    usable = [p for p in pairs if p.positive_ids and all(i in texts for i in p.positive_ids)]
    rng.shuffle(usable)
    chosen: list[DevPair] = []
    rewritten: dict[str, str] = {}  # chunk id -> the text training saw for it (the query's source cut out)
    for p in usable:
        if len(chosen) == max_queries:
            break
        if p.positive_text is not None:
            if len(p.positive_ids) != 1 or p.positive_ids[0] in rewritten:
                continue  # one rewritten text per chunk: another dev query already cut its own source from it
            rewritten[p.positive_ids[0]] = p.positive_text
        chosen.append(p)
    if not chosen:
        return None
    relevant = {p.query_id: set(p.positive_ids) for p in chosen}
    queries = {p.query_id: p.query for p in chosen}
    needed = set().union(*relevant.values())
    ids = list(dict.fromkeys([*sorted(needed), *_near_misses(queries, relevant, texts, hard_per_query)]))
    taken = set(ids)
    others = [i for i in texts if i not in taken]
    ids += rng.sample(others, max(0, min(len(others), max_corpus - len(ids))))
    corpus = {i: rewritten.get(i, texts[i]) for i in ids}
    return EvalSplit(queries, corpus, relevant)


def _near_misses(
    queries: Mapping[str, str], relevant: Mapping[str, set[str]], texts: Mapping[str, str], k: int
) -> list[str]:
    """Each query's BM25 top-k chunks that are not judged relevant to it, in query order."""
    if k <= 0 or len(texts) <= 1:
        return []
    from embedtune.retrieval.base import Document
    from embedtune.retrieval.bm25 import BM25Retriever

    bm25 = BM25Retriever()
    bm25.index([Document(i, t) for i, t in texts.items()])
    run = bm25.search(dict(queries), k + max(len(r) for r in relevant.values()))
    out: list[str] = []
    for q in queries:
        ranked_ids = sorted(run.get(q, {}), key=lambda d: -run[q][d])
        out += [d for d in ranked_ids if d not in relevant[q]][:k]
    return out
