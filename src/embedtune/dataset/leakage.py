"""Find training queries that are near-duplicates of eval queries (the leak a by-document split can miss).

Two users, or an LLM and a user, often phrase the same question almost identically; such a pair on both sides
inflates the eval score. Near-duplicate = same normalised text, or word-set Jaccard >= threshold. An inverted
index over the eval queries' words keeps it linear in practice: each training query is compared only with eval
queries that share one of its rarer words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

_WORD = re.compile(r"\w+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def find_near_duplicates(eval_texts: Sequence[str], train_texts: Sequence[str], threshold: float = 0.8) -> list[tuple[int, int]]:
    """``(eval index, train index)`` pairs whose word sets have Jaccard >= ``threshold``."""
    eval_words = [_words(t) for t in eval_texts]
    df: dict[str, int] = defaultdict(int)
    for ws in eval_words:
        for w in ws:
            df[w] += 1
    index: dict[str, list[int]] = defaultdict(list)
    for i, ws in enumerate(eval_words):
        for w in ws:
            index[w].append(i)
    pairs = []
    for j, text in enumerate(train_texts):
        tw = _words(text)
        if not tw:
            continue
        # Any pair at Jaccard >= t shares more than (1 - t) of the train query's words, so probing its
        # k rarest words (k = floor((1 - t) * |tw|) + 1) cannot miss one.
        k = int((1 - threshold) * len(tw)) + 1
        probes = sorted(tw, key=lambda w: df.get(w, 0))[:k]
        candidates = {i for w in probes for i in index.get(w, ())}
        for i in sorted(candidates):
            ew = eval_words[i]
            if len(tw & ew) / len(tw | ew) >= threshold:
                pairs.append((i, j))
    return pairs
