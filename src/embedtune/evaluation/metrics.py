"""Ranking metrics over graded qrels, computed by trec_eval itself (through pytrec_eval).

Metrics are named ``<measure>@<k>``: ``ndcg`` (trec_eval ``ndcg_cut``, linear gain, as BEIR reports it),
``recall``, ``precision`` (``P``), ``map`` (``map_cut``: AP truncated at k over all relevant documents) and
``mrr`` (``recip_rank`` of the run truncated to its top k). A document is relevant when its grade is > 0;
grade-0 lines are judged non-relevant.

Which queries count: every query of the qrels with at least one relevant document. A query the run did not
answer scores 0. Queries with no relevant document (all grades 0) cannot be scored by any system; they are
left out of the means and returned in :attr:`RunEvaluation.no_relevant` so callers report them.

Reference: trec_eval (NIST); Van Gysel & de Rijke, "Pytrec_eval: An Extremely Fast Python Interface to
trec_eval" (SIGIR 2018); Järvelin & Kekäläinen, "Cumulated gain-based evaluation of IR techniques" (2002).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from embedtune.errors import EmbedtuneError
from embedtune.retrieval.base import truncate_run

Qrels = Mapping[str, Mapping[str, int]]

DEFAULT_CUTOFFS = (1, 3, 5, 10, 100)
MEASURES = ("ndcg", "recall", "precision", "mrr", "map")
_TREC = {"ndcg": "ndcg_cut", "recall": "recall", "precision": "P", "map": "map_cut"}
_ALIASES = {"p": "precision", "ndcg_cut": "ndcg", "map_cut": "map", "recip_rank": "mrr", "r": "recall"}


def parse_metric(name: str) -> tuple[str, int]:
    """``"ndcg@10"`` -> ``("ndcg", 10)``; anything else is a one-line error listing what is accepted."""
    measure, sep, cutoff = name.strip().lower().partition("@")
    measure = _ALIASES.get(measure, measure)
    if measure in MEASURES and sep and cutoff.isdigit() and int(cutoff) > 0:
        return measure, int(cutoff)
    raise EmbedtuneError(
        f"unknown metric {name.strip()!r}: use {', '.join(MEASURES)} with a cutoff, e.g. ndcg@10 or recall@100"
    )


def parse_metrics(spec: str | Iterable[str]) -> list[str]:
    """Canonical metric names from ``"ndcg@10,recall@100"`` or a list, duplicates removed, order kept."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [f"{m}@{k}" for m, k in (parse_metric(s) for s in items if s.strip())]
    if not names:
        raise EmbedtuneError("no metrics given: e.g. metrics=\"ndcg@10,recall@100\"")
    return list(dict.fromkeys(names))


def default_metrics(cutoffs: Iterable[int] = DEFAULT_CUTOFFS) -> list[str]:
    """Every measure at every cutoff, measure-major: ndcg@1, ndcg@3, ..., map@100."""
    return [f"{m}@{k}" for m in MEASURES for k in cutoffs]


@dataclass(frozen=True)
class RunEvaluation:
    """Mean and per-query scores of one run.

    Attributes:
        means: metric -> mean over :attr:`queries`.
        per_query: metric -> query id -> score, for every query in :attr:`queries`.
        queries: the evaluated query ids (judged, with at least one relevant document), in qrels order.
        no_relevant: judged query ids with no relevant document, left out of the means.
    """

    means: dict[str, float]
    per_query: dict[str, dict[str, float]]
    queries: list[str]
    no_relevant: list[str]


def evaluate_run(
    qrels: Qrels, run: Mapping[str, Mapping[str, float]], metrics: Iterable[str] | None = None
) -> RunEvaluation:
    """Score ``run`` against ``qrels`` with trec_eval semantics (ties ranked by doc id, descending)."""
    import pytrec_eval

    names = parse_metrics(metrics) if metrics is not None else default_metrics()
    parsed = [parse_metric(n) for n in names]
    queries = [q for q, docs in qrels.items() if any(g > 0 for g in docs.values())]
    scored = set(queries)
    no_relevant = [q for q in qrels if q not in scored]
    if not queries:
        raise EmbedtuneError("no query has a relevant document: nothing to evaluate")
    judged = {q: {d: int(g) for d, g in qrels[q].items()} for q in queries}
    answered = {q: {d: float(s) for d, s in run[q].items()} for q in queries if run.get(q)}

    per_query: dict[str, dict[str, float]] = {n: dict.fromkeys(queries, 0.0) for n in names}

    # One trec_eval pass for the cutoff measures; its keys look like "ndcg_cut_10", "P_5".
    cut = {f"{_TREC[m]}.{k}" for m, k in parsed if m != "mrr"}
    if cut and answered:
        results = pytrec_eval.RelevanceEvaluator(judged, cut).evaluate(answered)
        for name, (m, k) in zip(names, parsed):
            if m != "mrr":
                for q, scores in results.items():
                    per_query[name][q] = scores[f"{_TREC[m]}_{k}"]

    # trec_eval's recip_rank has no cutoff: evaluate it on the run cut to each k.
    for name, (m, k) in zip(names, parsed):
        if m == "mrr" and answered:
            results = pytrec_eval.RelevanceEvaluator(judged, {"recip_rank"}).evaluate(truncate_run(answered, k))
            for q, scores in results.items():
                per_query[name][q] = scores["recip_rank"]

    means = {n: sum(per_query[n].values()) / len(queries) for n in names}
    return RunEvaluation(means, per_query, queries, no_relevant)
