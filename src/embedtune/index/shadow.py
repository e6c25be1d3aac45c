"""Shadow comparison: run the same queries against the live version and a candidate, each with its own model.

Before promoting, it answers "what would change for users?" without any relevance labels: how much the top-k
results overlap, how far the live top results move in the candidate's ranking, and how often the top-1 result
changes. With judgments (BEIR qrels, document ids) it also scores both versions (NDCG@10, Recall@k, documents
ranked by their best chunk) with a paired significance test per metric.

Definitions, per query, averaged over queries:

- ``overlap``: share of the top-k results both return (|A ∩ B| / k);
- ``jaccard``: |A ∩ B| / |A ∪ B| of the two top-k sets;
- ``rank_change``: mean |rank in candidate - rank in live| over the live top-k, searched ``depth`` deep in the
  candidate (a result it does not return that deep counts as rank ``depth + 1``);
- ``top1_changed``: whether the first result differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.evaluation.beir import Qrels, read_queries_file
from embedtune.evaluation.metrics import evaluate_run
from embedtune.evaluation.significance import Comparison, compare
from embedtune.index.base import Hit, IndexMeta, IndexStore
from embedtune.index.model import embed_for, load_version_adapter, load_version_model
from embedtune.index.queries import read_qrels
from embedtune.index.store import open_store
from embedtune.retrieval.base import Run
from embedtune.retrieval.maxp import max_passage

DEPTH_FACTOR = 5  # chunks searched per document kept: several chunks of one document often rank together


@dataclass(frozen=True)
class QueryShadow:
    """One query's results in both versions (top ``k`` each) and how they differ."""

    query_id: str
    query: str
    overlap: float
    jaccard: float
    rank_change: float
    top1_changed: bool
    live: list[Hit]
    candidate: list[Hit]


@dataclass(frozen=True)
class ShadowResult:
    """The comparison of ``candidate`` against ``live`` (see the module docstring for the measures)."""

    live: IndexMeta
    candidate: IndexMeta
    k: int
    depth: int
    overlap: float
    jaccard: float
    rank_change: float
    top1_changed: float  # share of queries
    queries: list[QueryShadow]
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> {"live": m, "candidate": m}
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def n_queries(self) -> int:
        return len(self.queries)

    @property
    def same_chunks(self) -> bool:
        """Whether both versions index the same chunks; if not, overlap compares different chunk ids."""
        return self.live.corpus_hash == self.candidate.corpus_hash

    def changed(self, n: int = 10) -> list[QueryShadow]:
        """The ``n`` queries whose results changed most (top-1 changed first, then least overlap)."""
        moved = [q for q in self.queries if q.top1_changed or q.overlap < 1.0]
        return sorted(moved, key=lambda q: (not q.top1_changed, q.overlap, -q.rank_change))[:n]

    def to_json(self, per_query: bool = False) -> dict:
        out = {
            "live": self.live.to_json(), "candidate": self.candidate.to_json(), "k": self.k, "depth": self.depth,
            "n_queries": self.n_queries, "overlap": self.overlap, "jaccard": self.jaccard,
            "rank_change": self.rank_change, "top1_changed": self.top1_changed, "same_chunks": self.same_chunks,
            "metrics": self.metrics,
            "comparisons": [c.to_json() for c in self.comparisons],
        }
        if per_query:
            out["queries"] = [asdict(q) for q in self.queries]
        return out


def _search(store: IndexStore, meta: IndexMeta, texts: list[str], depth: int) -> list[list[Hit]]:
    """Every query's top-``depth`` hits in version ``meta``, encoded by that version's own model."""
    if not meta.complete:
        raise EmbedtuneError(f"index version {meta.name!r} is incomplete; finish its build before comparing")
    model = load_version_model(meta)
    vectors = embed_for(model, meta, texts, "query", adapter=load_version_adapter(meta))
    return store.open(meta.name).search(vectors, depth)


def _compare_query(qid: str, text: str, live: list[Hit], cand: list[Hit], k: int, depth: int) -> QueryShadow:
    a, b = [h.id for h in live[:k]], [h.id for h in cand[:k]]
    shared = len(set(a) & set(b))
    union = len(set(a) | set(b))
    cand_rank = {h.id: r for r, h in enumerate(cand, 1)}
    moves = [abs(cand_rank.get(i, depth + 1) - r) for r, i in enumerate(a, 1)]
    return QueryShadow(
        query_id=qid, query=text,
        overlap=shared / max(len(a), len(b), 1), jaccard=shared / union if union else 1.0,
        rank_change=sum(moves) / len(moves) if moves else 0.0,
        top1_changed=(a[:1] != b[:1]), live=live[:k], candidate=cand[:k],
    )


def document_run(qids: list[str], hits: list[list[Hit]], k: int) -> Run:
    """Documents ranked by their best chunk (MaxP); a chunk also credits the documents it stood in for."""
    return {
        qid: max_passage((((h.doc_id or h.id, *h.duplicate_doc_ids), h.score) for h in row), k)
        for qid, row in zip(qids, hits, strict=True)
    }


def _quality(qrels: Qrels, qids: list[str], live: list[list[Hit]], cand: list[list[Hit]], k: int,
             live_name: str, cand_name: str) -> tuple[dict[str, dict[str, float]], list[Comparison]]:
    names = list(dict.fromkeys(["ndcg@10", f"recall@{k}"]))
    depth = max(k, 10)
    ev_live = evaluate_run(qrels, document_run(qids, live, depth), names)
    ev_cand = evaluate_run(qrels, document_run(qids, cand, depth), names)
    metrics = {n: {"live": ev_live.means[n], "candidate": ev_cand.means[n]} for n in names}
    comparisons = [
        compare(ev_cand.per_query[n], ev_live.per_query[n], n, system_name=cand_name, reference_name=live_name)
        for n in names
    ]
    return metrics, comparisons


def shadow_compare(
    store: IndexStore | str | Path,
    live: str,
    candidate: str,
    queries: Mapping[str, str] | str | Path,
    *,
    qrels: Qrels | str | Path | None = None,
    k: int = 10,
) -> ShadowResult:
    """Compare version ``candidate`` against ``live`` (a version name, or ``"live"`` for the alias) on ``queries``.

    Args:
        store: an open store, or its folder / Milvus URL.
        live: the reference version; ``"live"`` (:data:`LIVE`) is whatever the alias points to.
        candidate: the version that would be promoted.
        queries: ``{query id: text}``, or a queries file (BEIR ``queries.jsonl`` or one query a line).
        qrels: ``{query id: {doc id: grade}}`` or a BEIR qrels TSV; adds NDCG@10 / Recall@k and significance.
        k: results compared per query.
    """
    if k < 1:
        raise EmbedtuneError(f"k must be at least 1, got {k}")
    st = store if not isinstance(store, str | Path) else open_store(store)
    qmap = dict(queries) if isinstance(queries, Mapping) else read_queries_file(queries)
    if not qmap:
        raise EmbedtuneError("no queries to compare on")
    judged = read_qrels(qrels, qmap) if isinstance(qrels, str | Path) else qrels
    live_meta, cand_meta = st.meta(live), st.meta(candidate)
    if live_meta.name == cand_meta.name:
        raise EmbedtuneError(f"live and candidate are the same version ({cand_meta.name!r})")

    qids, texts = list(qmap), list(qmap.values())
    depth = max(k, 10) * DEPTH_FACTOR
    live_hits = _search(st, live_meta, texts, depth)
    cand_hits = _search(st, cand_meta, texts, depth)
    per_query = [_compare_query(q, t, a, b, k, depth) for q, t, a, b in zip(qids, texts, live_hits, cand_hits)]
    n = len(per_query)
    metrics, comparisons = {}, []
    if judged:
        metrics, comparisons = _quality(
            {q: d for q, d in judged.items() if q in qmap}, qids, live_hits, cand_hits, k,
            live_meta.name, cand_meta.name,
        )
    return ShadowResult(
        live=live_meta, candidate=cand_meta, k=k, depth=depth,
        overlap=sum(q.overlap for q in per_query) / n, jaccard=sum(q.jaccard for q in per_query) / n,
        rank_change=sum(q.rank_change for q in per_query) / n,
        top1_changed=sum(q.top1_changed for q in per_query) / n,
        queries=per_query, metrics=metrics, comparisons=comparisons,
    )
