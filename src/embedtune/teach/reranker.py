"""The teacher as a reranker: fuse its signals over each query's first-stage top-N and reorder them.

What it is for: the teacher's own quality, measured the way the student is (``teach`` reports it on the dev
slice next to the student's; the quality benchmark gives it a row on the test queries), and a reranked system
for ``baseline`` / ``eval``. Cost: one cross-encoder pass per (query, candidate) when the teacher has one.

Example::

    from embedtune.teach import TeachConfig, plan_teacher
    from embedtune.teach.reranker import TeacherReranker
    reranker = TeacherReranker(plan_teacher(TeachConfig()), TeachConfig())
    run = reranker.rerank({"q1": "what do cats eat?"}, {"q1": {"d1": 0.3, "d2": 0.2}},
                          {"d1": "Cats eat meat.", "d2": "Paris is in France."})
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from embedtune.progress import progress_bar
from embedtune.retrieval.base import Run, ranked
from embedtune.retrieval.rerank import head_then_tail
from embedtune.teach.config import TeachConfig
from embedtune.teach.score_cache import ScoreCache
from embedtune.teach.signals import Scorer, fuse, score_pairs
from embedtune.teach.teachers import TeacherPlan


class TeacherReranker:
    """Reorders each query's top-``top_n`` by the teacher's fused label; the tail keeps first-stage order.

    Args:
        plan: the resolved teacher (:func:`~embedtune.teach.plan_teacher`).
        config: teach settings (lengths, batch size, spread).
        scorers: model signals already loaded (``cross-encoder``, ``dense``); loaded from ``plan`` when None.
        bm25: a BM25Retriever indexed over the same passages, for the ``bm25`` signal.
        cache: where scores are kept (default: in memory); a file-backed cache makes a long reranking resumable.
        models: content hash of each model signal's model (``teach.stage.signal_models``), put in the cache keys;
            needed with a cache file that other teachers may share.
    """

    def __init__(self, plan: TeacherPlan, config: TeachConfig, scorers: Mapping[str, Scorer] | None = None,
                 bm25=None, ids: list[str] | None = None, cache: ScoreCache | None = None,
                 models: Mapping[str, str] | None = None) -> None:
        from embedtune.teach.stage import load_scorers

        self.plan, self.config = plan, config
        self.scorers = dict(scorers) if scorers is not None else load_scorers(plan, config, None)
        self.bm25, self._row = bm25, {d: i for i, d in enumerate(ids or [])}
        self.cache = cache if cache is not None else ScoreCache()
        self._keys = {name: f"{name}:{models[name][:16]}" if models else name for name in self.scorers}
        self.label = plan.name

    def rerank(self, queries: Mapping[str, str], run: Mapping[str, Mapping[str, float]], texts: Mapping[str, str],
               top_n: int = 20, k: int | None = None) -> Run:
        """Teacher-ordered head, first-stage tail (below every head score, as ``CrossEncoderReranker`` does)."""
        heads = {q: ranked(docs) for q, docs in run.items() if q in queries}
        pairs = [(queries[q], texts[d]) for q, ids in heads.items() for d in ids[:top_n]]
        raw = {}
        with progress_bar(transient=True) as bar:  # minutes of cross-encoder work: show counts and ETA
            for name, scorer in self.scorers.items():
                task = bar.add_task(f"teacher reranking: {name}", total=len(pairs))
                raw[name] = score_pairs(self._keys[name], pairs, scorer, self.cache,
                                        lambda n, task=task: bar.advance(task, n))
        out: Run = {}
        start = 0
        for q, ids in heads.items():
            head = ids[:top_n]
            signals = [raw[name][start : start + len(head)] for name in self.plan.signals if name in raw]
            if "bm25" in self.plan.signals and self.bm25 is not None:
                s = self.bm25.scores(queries[q])
                signals.append(np.array([s[self._row[d]] for d in head], dtype=np.float32))
            start += len(head)
            labels = fuse(signals, self.config.spread) if head else np.zeros(0)
            out[q] = head_then_tail({d: float(v) for d, v in zip(head, labels)}, ids[top_n:k])
        return out
