"""Evaluate several retrievers on one test collection and compare each against a reference system.

Every stage reports through this: it indexes the corpus, runs each system over the queries that have a
relevant document, scores the runs with trec_eval (:mod:`embedtune.evaluation.metrics`), and tests each
system against the first one (:mod:`embedtune.evaluation.significance`). The inputs are plain
``(docs, queries, qrels)``, so a BEIR folder and a workspace's held-out split go through the same code.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.evaluation.metrics import (
    Qrels,
    RunEvaluation,
    default_metrics,
    evaluate_run,
    parse_metric,
    parse_metrics,
)
from embedtune.evaluation.significance import Comparison, compare
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.retrieval.base import Document, Retriever, Run
from embedtune.retrieval.runner import Runner

DEPTH = 100
DEFAULT_COMPARISON_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


@dataclass
class SystemResult:
    """One system's run (top-``depth`` per query), its scores, and its wall time in this evaluation.

    ``seconds`` covers index + search; work shared between systems (one corpus encoding for every dense
    dimension, BM25 inside hybrid) is paid by the first system that needs it.
    """

    name: str
    run: Run
    evaluation: RunEvaluation
    seconds: float

    @property
    def means(self) -> dict[str, float]:
        return self.evaluation.means


@dataclass
class EvaluationReport:
    """The result of :func:`evaluate_retrievers`; ``systems`` is ordered and its first entry is the reference."""

    dataset: str
    split: str
    metrics: list[str]
    systems: dict[str, SystemResult]
    comparisons: list[Comparison]
    n_queries: int
    no_relevant: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return next(iter(self.systems))

    def comparison(self, system: str, metric: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.system == system and c.metric == metric), None)

    def to_json(self, per_query: bool = False) -> dict:
        """The ``eval --json`` document; ``per_query`` adds every query's score per system and metric."""
        out = {
            "dataset": self.dataset,
            "split": self.split,
            "n_queries": self.n_queries,
            "n_queries_no_relevant": len(self.no_relevant),
            "queries_no_relevant": self.no_relevant,
            "warnings": self.warnings,
            "metrics": self.metrics,
            "reference": self.reference,
            "runs": {name: {m: round(v, 6) for m, v in s.means.items()} for name, s in self.systems.items()},
            "seconds": {name: round(s.seconds, 2) for name, s in self.systems.items()},
            "comparisons": [c.to_json() for c in self.comparisons],
        }
        if per_query:
            out["per_query"] = {name: s.evaluation.per_query for name, s in self.systems.items()}
        return out


def evaluate_retrievers(
    retrievers: Sequence[Retriever],
    docs: Sequence[Document],
    queries: Mapping[str, str],
    qrels: Qrels,
    metrics: Sequence[str] | str | None = None,
    *,
    comparison_metrics: Sequence[str] | None = None,
    depth: int = DEPTH,
    dataset: str = "",
    split: str = "",
    warnings: Sequence[str] = (),
) -> EvaluationReport:
    """Index ``docs`` with every retriever, search the judged queries, score and compare the runs.

    Args:
        retrievers: the systems, reference first; names must be unique.
        docs: the corpus.
        queries: query id -> text (must cover every judged query with a relevant document).
        qrels: query id -> doc id -> grade.
        metrics: metric names (default: ndcg, recall, precision, mrr, map at 1/3/5/10/100).
        comparison_metrics: metrics the significance tests run on (default: ndcg@10, recall@10, recall@100,
            mrr@10, those of them that are among ``metrics``).
        depth: documents retrieved per query (at least the largest metric cutoff).
        dataset, split, warnings: carried into the report.
    """
    names = parse_metrics(metrics) if metrics is not None else default_metrics()
    depth = max(depth, *(parse_metric(m)[1] for m in names))
    if comparison_metrics is None:
        compared = [m for m in DEFAULT_COMPARISON_METRICS if m in names] or names[:1]
    else:
        compared = parse_metrics(comparison_metrics)
        if unknown := [m for m in compared if m not in names]:
            raise EmbedtuneError(f"cannot compare on {unknown[0]}: it is not among the evaluated metrics")
    if not retrievers:
        raise EmbedtuneError("no system to evaluate")
    if len({r.name for r in retrievers}) != len(retrievers):
        raise EmbedtuneError(f"system names must be unique, got {[r.name for r in retrievers]}")

    judged = [q for q, d in qrels.items() if any(g > 0 for g in d.values())]
    missing = [q for q in judged if q not in queries]
    if missing:
        raise EmbedtuneError(f"{len(missing)} judged queries have no text (e.g. {missing[0]!r})")
    todo = {q: queries[q] for q in judged}

    systems: dict[str, SystemResult] = {}
    for retriever in retrievers:
        t0 = time.perf_counter()
        retriever.index(docs)
        run = retriever.search(todo, depth)
        seconds = time.perf_counter() - t0
        systems[retriever.name] = SystemResult(retriever.name, run, evaluate_run(qrels, run, names), seconds)

    reference = systems[retrievers[0].name]
    comparisons = [
        compare(s.evaluation.per_query[m], reference.evaluation.per_query[m], m, s.name, reference.name)
        for s in list(systems.values())[1:]
        for m in compared
    ]
    return EvaluationReport(
        dataset=dataset,
        split=split,
        metrics=names,
        systems=systems,
        comparisons=comparisons,
        n_queries=len(judged),
        no_relevant=reference.evaluation.no_relevant,
        warnings=list(warnings),
    )


def build_retrievers(
    model: str | Path = DEFAULT_MODEL,
    *,
    dense: bool = True,
    dims: Sequence[int] | None = None,
    bm25: bool = False,
    hybrid: bool = False,
    rerank: str | Path | None = None,
    rerank_top: int = 20,
    rrf_k: int = 60,
    hybrid_weights: Sequence[float] | None = None,
    bm25_fields: str = "multifield",
    cache_dir: str | Path | None = None,
    runner: Runner | None = None,
) -> list[Retriever]:
    """The standard systems, reference first: dense at each dim (largest first), bm25, hybrid, rerank.

    Hybrid fuses BM25 with the dense model at its largest requested dimension; the reranker re-scores that
    same dense run's top-``rerank_top``. Everything shares one model load and one corpus encoding, both by
    ``runner`` (default: this process, ``load_embedder``'s backend).
    """
    from embedtune.retrieval.bm25 import BM25Retriever
    from embedtune.retrieval.dense import DenseRetriever
    from embedtune.retrieval.hybrid import HybridRetriever
    from embedtune.retrieval.rerank import CrossEncoderReranker, RerankRetriever
    from embedtune.retrieval.runner import LOCAL

    reranker = CrossEncoderReranker(rerank) if rerank is not None else None  # fail fast, before encoding
    out: list[Retriever] = []
    first_dense: DenseRetriever | None = None
    if dense or hybrid or reranker is not None:
        base = DenseRetriever(model, cache_dir=cache_dir, runner=runner or LOCAL)
        wanted = sorted(set(dims or [base.full_dim]), reverse=True)
        views = [base.truncated(d) for d in wanted]
        first_dense = views[0]
        if dense:
            out.extend(views)
    bm25_retriever = BM25Retriever(fields=bm25_fields) if (bm25 or hybrid) else None  # type: ignore[arg-type]
    if bm25 and bm25_retriever is not None:
        out.append(bm25_retriever)
    if hybrid and bm25_retriever is not None and first_dense is not None:
        label = first_dense.label
        if first_dense.dim != first_dense.full_dim:
            label += f"@{first_dense.dim}"
        out.append(HybridRetriever([bm25_retriever, first_dense], hybrid_weights, rrf_k, name=f"hybrid:{label}"))
    if reranker is not None and first_dense is not None:
        out.append(RerankRetriever(first_dense, reranker, rerank_top))
    if not out:
        raise EmbedtuneError("no system selected: set dense, bm25 or hybrid, or give a rerank model")
    return out
