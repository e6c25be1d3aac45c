"""The baseline verdict: where retrieval stands before anyone trains, and whether fine-tuning is likely to pay.

Runs the cheap systems (BM25, the dense model, their hybrid) and optionally a reranker on one test
collection, then applies a checklist in plain words:

1. Is recall@10 of the best cheap system already high? Then there is little left for fine-tuning to win.
2. Does BM25 match or beat the dense model? Then the model lacks the corpus's vocabulary (domain shift), the
   clearest sign that in-domain fine-tuning pays (BEIR's central finding).
3. How much of the gap to the *ranking ceiling* (a perfect reordering of the hybrid top-100) do hybrid
   search and reranking close? If they close most of it, use them first: no training needed.
4. What share of queries fail, and how? A *ranking failure* has a relevant document at rank 11-100 (a
   reranker or fine-tuning can fix it); a *retrieval failure* has none in the top-100 (only better embeddings
   or a lexical component can; a reranker over the same first stage cannot).

The thresholds below are rules of thumb, printed with the numbers they were applied to so a reader can
disagree. The core, :func:`run_baseline`, takes plain ``(docs, queries, qrels)``: a BEIR folder or a
workspace's held-out split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from embedtune.evaluation.evaluate import EvaluationReport, build_retrievers, evaluate_retrievers
from embedtune.evaluation.metrics import Qrels, evaluate_run
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.retrieval.base import Document, Run, ranked
from embedtune.retrieval.bm25 import BM25Retriever
from embedtune.retrieval.dense import DenseRetriever
from embedtune.retrieval.hybrid import HybridRetriever
from embedtune.retrieval.maxp import MaxPRetriever
from embedtune.retrieval.rerank import RerankRetriever
from embedtune.retrieval.runner import Runner

HIGH_RECALL = 0.90  # recall@10 at which a first stage leaves fine-tuning little to win
MOST_OF_GAP = 0.5  # share of the gap to the ranking ceiling that counts as "most"
RETRIEVAL_FAILURES = 0.15  # share of queries with nothing relevant in the top-100 that only better retrieval fixes
LEXICAL_MARGIN = 0.005  # BM25 within this NDCG@10 of the dense model counts as "matches it"
TOP, DEPTH = 10, 100
METRICS = ["ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100", "precision@10"]


@dataclass(frozen=True)
class QueryFailure:
    """A query whose relevant documents the target system did not put in its top 10."""

    query_id: str
    query: str
    kind: str  # "ranking" (first relevant at rank 11-100) or "retrieval" (none in the top-100)
    first_relevant_rank: int | None
    gold: list[dict]
    retrieved: list[dict]
    found_by: list[str]  # other systems with a relevant document in their top 10


@dataclass(frozen=True)
class Verdict:
    """``label`` is "likely", "possible" or "unlikely" (that fine-tuning pays); findings say why."""

    label: str
    headline: str
    findings: list[str]
    next_steps: list[str]


@dataclass
class BaselineReport:
    """Everything ``embedtune baseline`` writes: metrics, failure analysis, verdict."""

    evaluation: EvaluationReport
    model: str
    target: str
    best_cheap: str
    outcomes: dict[str, dict[str, float]]
    ceiling: float
    ceiling_pool: str
    failures: list[QueryFailure]
    verdict: Verdict

    def to_json(self) -> dict:
        return {
            "dataset": self.evaluation.dataset,
            "split": self.evaluation.split,
            "model": self.model,
            "target_system": self.target,
            "best_cheap_system": self.best_cheap,
            "verdict": asdict(self.verdict),
            "ranking_ceiling": {"ndcg@10": round(self.ceiling, 6), "pool": f"{self.ceiling_pool} top-{DEPTH}"},
            "outcomes": self.outcomes,
            "evaluation": self.evaluation.to_json(),
            "failures": [asdict(f) for f in self.failures],
        }


def first_relevant_rank(scores: Mapping[str, float], judged: Mapping[str, int]) -> int | None:
    """1-based rank of the best-ranked relevant document in a query's run, or None."""
    return next((i for i, d in enumerate(ranked(scores), 1) if judged.get(d, 0) > 0), None)


def outcome(rank: int | None) -> str:
    """"top10", "ranking_failure" (first relevant at rank 11-100) or "retrieval_failure" (none retrieved)."""
    if rank is None:
        return "retrieval_failure"
    return "top10" if rank <= TOP else "ranking_failure"


def outcome_shares(run: Run, qrels: Qrels, queries: Sequence[str]) -> dict[str, float]:
    """Share of queries per :func:`outcome`."""
    counts = {"top10": 0, "ranking_failure": 0, "retrieval_failure": 0}
    for q in queries:
        counts[outcome(first_relevant_rank(run.get(q, {}), qrels[q]))] += 1
    return {k: round(v / len(queries), 6) for k, v in counts.items()}


def ranking_ceiling(run: Run, qrels: Qrels, queries: Sequence[str]) -> float:
    """Mean NDCG@10 of a perfect reordering of each query's candidates: the best any reranker could do."""
    oracle = {q: {d: float(qrels[q].get(d, 0)) for d in run.get(q, {})} for q in queries}
    return evaluate_run({q: qrels[q] for q in queries}, oracle, ["ndcg@10"]).means["ndcg@10"]


def _snippet(doc: Document | None, doc_id: str) -> str:
    if doc is None:
        return doc_id
    text = doc.title or doc.text
    return text if len(text) <= 160 else text[:157] + "..."


def find_failures(
    report: EvaluationReport, target: str, docs: Sequence[Document], queries: Mapping[str, str], qrels: Qrels,
    n_retrieved: int = 3,
) -> list[QueryFailure]:
    """The target system's failed queries: retrieval failures first, then ranking failures, worst first."""
    by_id = {d.id: d for d in docs}
    run = report.systems[target].run
    others = {n: s.run for n, s in report.systems.items() if n != target}
    out = []
    for q in report.systems[target].evaluation.queries:
        rank = first_relevant_rank(run.get(q, {}), qrels[q])
        if outcome(rank) == "top10":
            continue
        gold = sorted(((d, g) for d, g in qrels[q].items() if g > 0), key=lambda x: -x[1])
        top = ranked(run.get(q, {}))[:n_retrieved]
        out.append(QueryFailure(
            query_id=q,
            query=queries[q],
            kind="retrieval" if rank is None else "ranking",
            first_relevant_rank=rank,
            gold=[{"id": d, "grade": g, "text": _snippet(by_id.get(d), d)} for d, g in gold],
            retrieved=[{"id": d, "score": round(run[q][d], 4), "text": _snippet(by_id.get(d), d)} for d in top],
            found_by=[n for n, r in others.items() if outcome(first_relevant_rank(r.get(q, {}), qrels[q])) == "top10"],
        ))
    out.sort(key=lambda f: (f.kind != "retrieval", -(f.first_relevant_rank or 0)))
    return out


def _p(report: EvaluationReport, system: str) -> str:
    c = report.comparison(system, "ndcg@10")
    return "" if c is None else f" (p={c.p_randomization:.3g})"


def decide(
    report: EvaluationReport, target: str, bm25: str, hybrid: str, rerank: str | None,
    outcomes: Mapping[str, Mapping[str, float]], ceiling: float,
) -> tuple[str, Verdict]:
    """Apply the checklist; returns the best cheap system and the verdict."""
    m = {name: s.means for name, s in report.systems.items()}
    cheap = [n for n in report.systems if n != rerank]
    best = max(cheap, key=lambda n: m[n]["ndcg@10"])
    dense_n, findings, steps = m[target]["ndcg@10"], [], []

    best_r10 = m[best]["recall@10"]
    high = best_r10 >= HIGH_RECALL
    findings.append(
        f"Best cheap system: {best} with NDCG@10 {m[best]['ndcg@10']:.3f} and recall@10 {best_r10:.3f}"
        + (f" - already high (>= {HIGH_RECALL:.2f}): little is left for fine-tuning to win." if high else
           f" - below {HIGH_RECALL:.2f}: there is room to improve.")
    )
    lexical_wins = m[bm25]["ndcg@10"] >= dense_n - LEXICAL_MARGIN
    findings.append(
        f"BM25 {m[bm25]['ndcg@10']:.3f} vs the dense model {dense_n:.3f} NDCG@10{_p(report, bm25)}: "
        + ("BM25 matches or beats it, so the model is missing this corpus's vocabulary, which in-domain "
           "fine-tuning usually fixes." if lexical_wins else
           "the dense model is ahead, so it already handles this domain's language reasonably.")
    )
    gap = ceiling - dense_n
    closes: dict[str, float] = {}
    for name in [hybrid] + ([rerank] if rerank else []):
        closes[name] = (m[name]["ndcg@10"] - dense_n) / gap if gap > 1e-9 else 0.0
        findings.append(
            f"{name}: NDCG@10 {m[name]['ndcg@10']:.3f} ({m[name]['ndcg@10'] - dense_n:+.3f} over dense"
            f"{_p(report, name)}) closes {closes[name]:.0%} of the gap to the ranking ceiling {ceiling:.3f} "
            f"(a perfect reordering of the hybrid top-{DEPTH})."
        )
    o = outcomes[target]
    findings.append(
        f"Dense model failures: {o['ranking_failure'] + o['retrieval_failure']:.0%} of queries have no relevant "
        f"document in the top {TOP}: {o['ranking_failure']:.0%} are ranking failures (one is at rank 11-{DEPTH}: "
        f"reranking or fine-tuning can fix them) and {o['retrieval_failure']:.0%} retrieval failures (none in "
        f"the top {DEPTH}: a reranker cannot fix them; better embeddings or hybrid can)."
    )
    if report.no_relevant:
        findings.append(f"{len(report.no_relevant)} judged queries have no relevant document and were not scored.")

    best_fix = max(closes, key=lambda n: closes[n])
    fixed_cheaply = closes[best_fix] >= MOST_OF_GAP
    many_retrieval_failures = o["retrieval_failure"] >= RETRIEVAL_FAILURES
    if high:
        label = "unlikely"
        headline = f"Fine-tuning is unlikely to pay: {best} already reaches recall@10 {best_r10:.2f}."
    elif lexical_wins or many_retrieval_failures:
        label = "likely"
        why = "BM25 matches or beats the dense model" if lexical_wins else \
            f"{o['retrieval_failure']:.0%} of queries are retrieval failures"
        headline = f"Fine-tuning is likely to pay: {why}."
    elif fixed_cheaply:
        label = "unlikely"
        headline = f"Fine-tuning is unlikely to be worth it yet: {best_fix} already closes most of the gap."
    else:
        label = "possible"
        headline = "Fine-tuning may pay: the dense model leads BM25, but a real gap to the ranking ceiling remains."

    if best != target:
        steps.append(f"Use {best} now: NDCG@10 {m[best]['ndcg@10']:.3f} against {dense_n:.3f} for the dense model"
                     f"{_p(report, best)}, at no training cost.")
    if rerank is None and o["ranking_failure"] >= o["retrieval_failure"] and o["ranking_failure"] > 0:
        steps.append("Most failures are ranking failures: try a cross-encoder reranker (--rerank).")
    if label != "unlikely":
        steps.append("Fine-tune on your documents, then compare against these numbers with `embedtune eval`.")
    return best, Verdict(label, headline, findings, steps)


def run_baseline(
    docs: Sequence[Document],
    queries: Mapping[str, str],
    qrels: Qrels,
    *,
    model: str | Path = DEFAULT_MODEL,
    rerank: str | Path | None = None,
    rerank_top: int = 20,
    cache_dir: str | Path | None = None,
    dataset: str = "",
    split: str = "",
    warnings: Sequence[str] = (),
    chunk_docs: Mapping[str, Sequence[str]] | None = None,
    runner: Runner | None = None,
) -> BaselineReport:
    """Evaluate dense, BM25, hybrid (and rerank) on ``(docs, queries, qrels)`` and judge the outcome.

    With ``chunk_docs`` (chunk id -> document ids), ``docs`` are chunks and systems are scored per document (MaxP).
    ``runner`` loads and encodes with the dense model (default: this process, ``load_embedder``'s backend).
    """
    retrievers = build_retrievers(model, bm25=True, hybrid=True, rerank=rerank, rerank_top=rerank_top,
                                  cache_dir=cache_dir, runner=runner)
    evaluated_systems = [MaxPRetriever(r, chunk_docs) for r in retrievers] if chunk_docs is not None else retrievers
    report = evaluate_retrievers(evaluated_systems, docs, queries, qrels, METRICS, dataset=dataset, split=split,
                                 warnings=warnings, depth=DEPTH)
    target = next(r.name for r in retrievers if isinstance(r, DenseRetriever))
    bm25 = next(r.name for r in retrievers if isinstance(r, BM25Retriever))
    hybrid = next(r.name for r in retrievers if isinstance(r, HybridRetriever))
    rerank_name = next((r.name for r in retrievers if isinstance(r, RerankRetriever)), None)
    evaluated = report.systems[target].evaluation.queries
    outcomes = {n: outcome_shares(s.run, qrels, evaluated) for n, s in report.systems.items()}
    ceiling = ranking_ceiling(report.systems[hybrid].run, qrels, evaluated)
    best, verdict = decide(report, target, bm25, hybrid, rerank_name, outcomes, ceiling)
    return BaselineReport(
        evaluation=report,
        model=str(model),
        target=target,
        best_cheap=best,
        outcomes=outcomes,
        ceiling=ceiling,
        ceiling_pool=hybrid,
        failures=find_failures(report, target, docs, queries, qrels),
        verdict=verdict,
    )
