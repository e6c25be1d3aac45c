"""Base vs tuned, side by side: every Matryoshka dim, BM25 and hybrid, with paired significance per dim.

This is the proof a fine-tune owes its user: on held-out queries, is the tuned model better than the one it
started from at each vector size, and can a small tuned vector replace the base model's full one?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from embedtune.evaluation.evaluate import EvaluationReport, evaluate_retrievers
from embedtune.evaluation.metrics import Qrels
from embedtune.evaluation.render import add_evaluation
from embedtune.evaluation.significance import Comparison, compare
from embedtune.report import HtmlReport
from embedtune.retrieval.base import Document, Retriever
from embedtune.retrieval.runner import LOCAL, Runner

PRIMARY = "ndcg@10"


@dataclass
class ModelComparison:
    """The full evaluation plus the per-dim tuned-vs-base tests on the primary metric."""

    evaluation: EvaluationReport
    dims: list[int]
    per_dim: list[Comparison]
    small_vs_full: Comparison | None

    def rows(self) -> list[dict[str, object]]:
        """One row per dim: base, tuned, delta, p-value, significant."""
        return [
            {"dim": d, f"base {PRIMARY}": c.reference_mean, f"tuned {PRIMARY}": c.system_mean, "delta": c.delta,
             "p-value": c.p_randomization, "significant": c.significant()}
            for d, c in zip(self.dims, self.per_dim)
        ]

    def to_json(self) -> dict:
        return {
            **self.evaluation.to_json(),
            "tuned_vs_base": self.rows(),
            "tuned_small_vs_base_full": self.small_vs_full.to_json() if self.small_vs_full else None,
            # Per query, so paired tests against another run need no re-evaluation (eval_report.json outlives it).
            f"per_query_{PRIMARY}": {name: dict(s.evaluation.per_query[PRIMARY])
                                     for name, s in self.evaluation.systems.items()},
        }


def _dense_views(model, label: str, dims: Sequence[int], cache_dir: str | Path | None,
                 runner: Runner) -> list[Retriever]:
    from embedtune.retrieval.dense import DenseRetriever

    base = DenseRetriever(model, label=label, cache_dir=cache_dir, runner=runner)
    return [base.truncated(d) for d in dims]


def compare_base_and_tuned(
    docs: Sequence[Document],
    queries: Mapping[str, str],
    qrels: Qrels,
    base_model: str | Path,
    tuned_model: str | Path,
    dims: Sequence[int],
    *,
    chunk_docs: Mapping[str, Sequence[str]] | None = None,
    bm25: bool = True,
    hybrid: bool = True,
    cache_dir: str | Path | None = None,
    dataset: str = "",
    split: str = "",
    runner: Runner = LOCAL,
) -> ModelComparison:
    """Evaluate base and tuned at every dim (plus BM25 and both hybrids) on the same queries.

    With ``chunk_docs`` (chunk id -> document ids), ``docs`` are chunks, ``qrels`` judge documents, and every
    system is scored at document level by MaxP. ``runner`` loads both models and encodes the corpus (default:
    this process, ``load_embedder``'s backend).
    """
    from embedtune.retrieval.bm25 import BM25Retriever
    from embedtune.retrieval.hybrid import HybridRetriever
    from embedtune.retrieval.maxp import MaxPRetriever

    dims = sorted(set(dims), reverse=True)
    base_views = _dense_views(base_model, "base", dims, cache_dir, runner)
    tuned_views = _dense_views(tuned_model, "tuned", dims, cache_dir, runner)
    systems: list[Retriever] = [*base_views, *tuned_views]
    if bm25 or hybrid:
        lexical = BM25Retriever()
        if bm25:
            systems.append(lexical)
        if hybrid:
            systems += [HybridRetriever([lexical, base_views[0]], name="hybrid:base"),
                        HybridRetriever([lexical, tuned_views[0]], name="hybrid:tuned")]
    if chunk_docs is not None:
        systems = [MaxPRetriever(s, chunk_docs) for s in systems]
    report = evaluate_retrievers(systems, docs, queries, qrels, dataset=dataset, split=split)

    def scores(system: Retriever) -> dict[str, float]:
        return report.systems[system.name].evaluation.per_query[PRIMARY]

    per_dim = [
        compare(scores(t), scores(b), PRIMARY, t.name, b.name) for b, t in zip(base_views, tuned_views)
    ]
    small = None
    if len(dims) > 1:  # can the smallest tuned vector stand in for the base model's full one?
        small = compare(scores(tuned_views[-1]), scores(base_views[0]), PRIMARY, tuned_views[-1].name, base_views[0].name)
    return ModelComparison(report, dims, per_dim, small)


def comparison_html(result: ModelComparison, title: str = "Base vs tuned") -> HtmlReport:
    """Per-dim verdict table first, then the standard evaluation sections."""
    html = HtmlReport(title, f"{result.evaluation.n_queries:,} held-out queries")
    html.add_section("Tuned vs base at each dimension",
                     f"<p>{PRIMARY}, paired randomisation test over the same queries.</p>")
    html.add_table(result.rows(), highlight_max=False)
    if result.small_vs_full:
        c = result.small_vs_full
        html.add_paragraph(f"{c.system} vs {c.reference}: {c.system_mean:.4f} vs {c.reference_mean:.4f} "
                           f"(delta {c.delta:+.4f}, p = {c.p_randomization:.3g}).")
    return add_evaluation(html, result.evaluation)
