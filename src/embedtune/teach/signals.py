"""Teacher signals: one relevance score per (query, candidate passage), from each ranker a teacher combines.

- ``cross-encoder``: the logit of a cross-encoder reading query and passage together (the strongest single signal;
  one forward pass per pair, so it is budgeted: only the rows' candidates are scored).
- ``dense``: cosine from a stronger bi-encoder (bge-small-en-v1.5), or from the base model when none is installed.
- ``bm25``: BM25 over the whole corpus, read at the candidates.

A teacher's label for a row is the mean of its signals' z-scores over the row's candidates, times ``spread``
(Cormack-style fusion needs ranks over a whole list; z-scores work on the few candidates a row has, and put
every signal on one scale). References: Wang et al., "GPL: Generative Pseudo Labeling for Unsupervised Domain
Adaptation of Dense Retrieval" (2022); Tamber et al., "CADET" (2025) for fusing rankers as a teacher.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from embedtune.teach.score_cache import ScoreCache

Scorer = Callable[[list[tuple[str, str]]], np.ndarray]


def score_pairs(name: str, pairs: Sequence[tuple[str, str]], scorer: Scorer, cache: ScoreCache,
                on_progress: Callable[[int], None] | None = None, block: int = 256) -> np.ndarray:
    """Scores of ``pairs`` by ``scorer``, computing only the pairs not in ``cache`` (saved every ``block``)."""
    keys = [cache.key(name, q, p) for q, p in pairs]
    todo, seen = [], set()
    for i, k in enumerate(keys):
        if k not in cache and k not in seen:
            seen.add(k)
            todo.append(i)
    for start in range(0, len(todo), block):
        chunk = todo[start : start + block]
        cache.put([keys[i] for i in chunk], scorer([pairs[i] for i in chunk]))
        if on_progress:
            on_progress(len(chunk))
    return np.array([cache[k] for k in keys], dtype=np.float32)


def cross_encoder_scorer(model, batch_size: int) -> Scorer:
    """A scorer from anything with ``predict(pairs, batch_size=...)`` (OnnxCrossEncoder or ST CrossEncoder)."""
    return lambda pairs: np.asarray(model.predict(pairs, batch_size=batch_size), dtype=np.float32).reshape(-1)


def bi_encoder_scorer(encode_queries: Callable[[list[str]], np.ndarray],
                      encode_passages: Callable[[list[str]], np.ndarray]) -> Scorer:
    """Cosine of unit query and passage vectors; each distinct text is encoded once per call."""

    def score(pairs: list[tuple[str, str]]) -> np.ndarray:
        qs, ps = list(dict.fromkeys(q for q, _ in pairs)), list(dict.fromkeys(p for _, p in pairs))
        qv, pv = encode_queries(qs), encode_passages(ps)
        qi, pi = {t: i for i, t in enumerate(qs)}, {t: i for i, t in enumerate(ps)}
        return np.einsum("ij,ij->i", qv[[qi[q] for q, _ in pairs]], pv[[pi[p] for _, p in pairs]]).astype(np.float32)

    return score


def fuse(signals: Sequence[np.ndarray], spread: float) -> np.ndarray:
    """``spread`` x the mean z-score of each signal over one row's candidates (a constant signal adds 0)."""
    zs = []
    for s in signals:
        s = np.asarray(s, dtype=np.float64)
        std = s.std()
        zs.append((s - s.mean()) / std if std > 1e-9 else np.zeros_like(s))
    return (spread * np.mean(zs, axis=0)).astype(np.float32)
