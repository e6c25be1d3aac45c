"""A cross-encoder second opinion on candidate negatives: drop (or relabel) the ones it finds relevant.

What it optimises: false negatives the bi-encoder's scores cannot separate. The filters compare a candidate's
score with the positive's *through the mining model*, which is exactly the model whose mistakes we are trying
to fix; a cross-encoder reads query and passage together and catches relevant passages the bi-encoder ranks as
ordinary neighbours. RLHN found that relabelling such passages as positives, rather than only dropping them,
recovers training signal (Thakur et al., "Hard Negatives, Hard Lessons: Revisiting Training Data Quality for
Robust Information Retrieval with LLMs", 2025).

A candidate counts as relevant when its CE score reaches ``threshold`` (an absolute CE score: depends on the
model's scale) or ``relative`` x the CE score of the query's *weakest* known positive (sign-safe, scale-free).
The bar is per query, not per row, so a passage is relevant or not for a query, whichever positive a row
trains on. Scores are cached per (query, passage): the calibration sample and the check never read a pair twice.

When to use it: when a reranker for the domain exists (yours, or a cached hub model: none installs offline), and
when queries have one known positive each (synthetic queries), so that the leave-one-out calibration cannot
estimate the false-negative rate. Cost: one CE forward pass per candidate actually offered as a negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embedtune.mining.filters import percpos_threshold

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder


class CrossEncoderCheck:
    """Relevance verdicts for (query, passage) pairs by a cross-encoder, relative to the query's positives.

    Args:
        model: a loaded CrossEncoder, or a folder / cached hub id (see ``load_cross_encoder``).
        query_texts: query text per query index.
        doc_texts: passage text per corpus row.
        positives: per query, the corpus rows of its known positives.
        threshold: CE score at or above which a passage is relevant (None: off).
        relative: fraction of the weakest positive's CE score at or above which a passage is relevant (None: off).
        batch_size: pairs per forward pass.
    """

    def __init__(
        self,
        model: str | Path | CrossEncoder,
        query_texts: Sequence[str],
        doc_texts: Sequence[str],
        positives: Sequence[np.ndarray],
        threshold: float | None = None,
        relative: float | None = 0.9,
        batch_size: int = 32,
    ) -> None:
        # Batch scoring is the reranker's (one rule for how a cross-encoder reads pairs); this adds the cache.
        from embedtune.retrieval.rerank import CrossEncoderReranker

        self.reranker = CrossEncoderReranker(model, batch_size=batch_size)
        self.query_texts, self.doc_texts, self.positives = query_texts, doc_texts, positives
        self.threshold, self.relative, self.batch_size = threshold, relative, batch_size
        self._scores: dict[tuple[int, int], float] = {}
        self.pairs_scored = 0

    def scores(self, queries: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """CE scores of the pairs (``queries[i]``, ``docs[i]``), computing only those not seen before."""
        keys = list(zip(queries.tolist(), docs.tolist()))
        todo = list(dict.fromkeys(k for k in keys if k not in self._scores))
        if todo:
            texts = [(self.query_texts[q], self.doc_texts[d]) for q, d in todo]
            self._scores.update(zip(todo, self.reranker.predict(texts).tolist()))
            self.pairs_scored += len(todo)
        return np.array([self._scores[k] for k in keys], dtype=np.float32)

    def positive_reference(self, queries: np.ndarray) -> np.ndarray:
        """CE score of each query's weakest known positive."""
        uniq = np.unique(queries)
        q_rep = np.concatenate([np.full(len(self.positives[q]), q) for q in uniq])
        d_rep = np.concatenate([self.positives[q] for q in uniq])
        scores = self.scores(q_rep, d_rep)
        mins, start = {}, 0
        for q in uniq:
            n = len(self.positives[q])
            mins[int(q)] = float(scores[start : start + n].min())
            start += n
        return np.array([mins[int(q)] for q in queries], dtype=np.float64)

    def relevant(self, queries: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """True where the CE judges the passage about as relevant to the query as its known positives."""
        if not len(queries):
            return np.zeros(0, dtype=bool)
        # Score positives and candidates in one pass so the progress bar shows the whole cost.
        self.scores(np.concatenate([queries, *[np.full(len(self.positives[q]), q) for q in np.unique(queries)]]),
                    np.concatenate([docs, *[self.positives[q] for q in np.unique(queries)]]))
        ce = self.scores(queries, docs).astype(np.float64)
        out = np.zeros(len(ce), dtype=bool)
        if self.threshold is not None:
            out |= ce >= self.threshold
        if self.relative is not None:
            out |= ce >= percpos_threshold(self.positive_reference(queries), self.relative)
        return out
