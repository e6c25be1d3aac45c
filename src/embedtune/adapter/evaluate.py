"""Base vs adapter (vs a full fine-tune, when given): NDCG@10 per Matryoshka dim with paired significance,
and what each path costs for this corpus.

The numbers a user needs to choose: does the adapter lift retrieval at every dim the index stores, how much of
a full fine-tune's lift does it get, and what would the full fine-tune cost in re-embedding time (the measured
encode rate of the model times the chunks) and storage (a second copy of every vector while both versions
exist), against the adapter's seconds of training and its kilobytes. It ends with a recommendation computed
from those numbers (:mod:`embedtune.adapter.recommend`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from embedtune.adapter.model import QueryAdapter
from embedtune.adapter.recommend import REEMBED_BUDGET_S, Recommendation, recommend
from embedtune.evaluation.evaluate import EvaluationReport, evaluate_retrievers
from embedtune.evaluation.metrics import Qrels
from embedtune.evaluation.significance import Comparison, compare
from embedtune.retrieval.base import Document, Retriever
from embedtune.retrieval.dense import DenseRetriever, _Shared
from embedtune.retrieval.runner import LOCAL, Runner

PRIMARY = "ndcg@10"
FLOAT32 = 4
RATE_SAMPLE = 64  # chunks encoded to measure the re-embedding rate


class AdaptedRetriever(DenseRetriever):
    """A dense retriever whose queries go through a :class:`QueryAdapter`; it shares the base retriever's model
    and corpus vectors (nothing is encoded for the corpus beyond what ``base`` does)."""

    def __init__(self, base: DenseRetriever, adapter: QueryAdapter, label: str = "adapter",
                 dim: int | None = None) -> None:
        s = base._shared
        self._base, self._adapter = base, adapter
        self._shared = _Shared(s.model, s.model_hash, label, s.cache_dir, s.batch_size)
        self._init_view(dim, None)

    def truncated(self, dim: int, name: str | None = None) -> AdaptedRetriever:
        view = object.__new__(AdaptedRetriever)
        view._base, view._adapter, view._shared = self._base, self._adapter, self._shared
        view._init_view(dim, name)
        return view

    def index(self, docs: Sequence[Document]) -> None:
        self._base.index(docs)
        base, s = self._base._shared, self._shared
        if s.corpus is not base.corpus:
            s.corpus, s.corpus_key, s.by_dim = base.corpus, base.corpus_key, {}

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        s, key = self._shared, tuple(texts)
        if s.last_queries is None or s.last_queries[0] != key:
            s.last_queries = (key, self._adapter.apply(self._base.encode_queries(texts)))
        return s.last_queries[1]


@dataclass(frozen=True)
class PathCost:
    """What one way of adapting retrieval costs for a corpus of ``chunks`` chunks."""

    path: str  # "adapter" | "fine-tune"
    train_seconds: float | None  # the adapter's includes encoding its training and dev queries
    reembed_seconds: float  # 0 for the adapter: the stored vectors stay
    extra_storage_bytes: int  # adapter file, or a second copy of the vectors at the stored dim


@dataclass
class AdapterComparison:
    """Per dim: base vs adapter (and vs the fine-tuned model when given), the evaluation, and the costs."""

    evaluation: EvaluationReport
    dims: list[int]
    adapter_vs_base: list[Comparison]
    tuned_vs_base: list[Comparison] = field(default_factory=list)
    costs: list[PathCost] = field(default_factory=list)
    encode_rate: float | None = None  # chunks per second, measured
    chunks: int = 0
    recommendation: Recommendation | None = None

    def rows(self) -> list[dict[str, object]]:
        """One row per dim: base, adapter (delta, p), tuned (delta, p) and the adapter's share of the tuned lift."""
        out = []
        for i, (d, a) in enumerate(zip(self.dims, self.adapter_vs_base)):
            row: dict[str, object] = {"dim": d, f"base {PRIMARY}": a.reference_mean, f"adapter {PRIMARY}": a.system_mean,
                                      "adapter delta": a.delta, "adapter p": a.p_randomization,
                                      "adapter significant": a.significant()}
            if self.tuned_vs_base:
                t = self.tuned_vs_base[i]
                row |= {f"tuned {PRIMARY}": t.system_mean, "tuned delta": t.delta, "tuned p": t.p_randomization,
                        "tuned significant": t.significant(),
                        "adapter share of tuned lift": a.delta / t.delta if t.delta > 1e-9 else None}
            out.append(row)
        return out

    def to_json(self) -> dict:
        return {**self.evaluation.to_json(), "adapter_vs_base": self.rows(), "costs": [asdict(c) for c in self.costs],
                "encode_rate_chunks_per_s": self.encode_rate, "chunks": self.chunks,
                "recommendation": asdict(self.recommendation) if self.recommendation else None}


def measure_encode_rate(model, docs: Sequence[Document], sample: int = RATE_SAMPLE) -> float:
    """Chunks per second this model encodes here, timed on the first ``sample`` chunks (a re-embedding estimate)."""
    from embedtune.retrieval.embedding_cache import encode_texts

    texts = [d.full_text for d in docs[:sample]]
    encode_texts(model, texts[:2], "document", progress=False)  # warm-up: tokenizer set-up, first-call costs
    t0 = time.perf_counter()
    encode_texts(model, texts, "document", progress=False)
    return len(texts) / max(time.perf_counter() - t0, 1e-9)


def path_costs(adapter: QueryAdapter, chunks: int, dim: int, encode_rate: float,
               tuned_train_seconds: float | None = None) -> list[PathCost]:
    """The adapter's cost (its training and query-encoding seconds, its files) against re-embedding ``chunks``
    chunks at ``dim``."""
    size = sum(f.stat().st_size for f in adapter.path.iterdir() if f.is_file()) if adapter.path else 0
    record = adapter.meta.get("train", {})
    train_s = record["seconds"] + record.get("query_encode_seconds", 0.0) if "seconds" in record else None
    return [
        PathCost("adapter", train_s, 0.0, size),
        PathCost("fine-tune", tuned_train_seconds, chunks / encode_rate if encode_rate > 0 else float("inf"),
                 chunks * dim * FLOAT32),
    ]


def compare_base_and_adapter(
    docs: Sequence[Document],
    queries: Mapping[str, str],
    qrels: Qrels,
    base_model: str | Path,
    adapter: QueryAdapter | str | Path,
    dims: Sequence[int] | None = None,
    *,
    tuned_model: str | Path | None = None,
    tuned_train_seconds: float | None = None,
    chunk_docs: Mapping[str, Sequence[str]] | None = None,
    cache_dir: str | Path | None = None,
    encode_rate: float | None = None,
    reembed_budget_s: float = REEMBED_BUDGET_S,
    dataset: str = "",
    split: str = "",
    runner: Runner = LOCAL,
) -> AdapterComparison:
    """Evaluate base and base + adapter (and a fine-tuned model) at every dim on the same queries.

    Args:
        docs: the corpus (chunks when ``chunk_docs`` maps chunk id -> document ids; then scored per document by MaxP).
        queries, qrels: the held-out eval set.
        base_model: the adapter's base model (its corpus vectors come from the embedding cache when there).
        adapter: a :class:`QueryAdapter` or its folder.
        dims: dims to report; default the adapter's.
        tuned_model: a full fine-tune of the same base, for the three-way comparison (encodes the corpus with it).
        encode_rate: the base model's chunks per second for the re-embedding estimate; None measures it here.
        reembed_budget_s: re-embedding longer than this makes the adapter the recommendation whenever it lifts.
        runner: loads the models (its inference backend) and encodes the corpus; default: this process.
    """
    from embedtune.retrieval.maxp import MaxPRetriever

    adapter = adapter if isinstance(adapter, QueryAdapter) else QueryAdapter.load(adapter)
    dims = sorted(set(dims or adapter.dims), reverse=True)
    base = DenseRetriever(base_model, label="base", cache_dir=cache_dir, runner=runner)
    base_views = [base.truncated(d) for d in dims]
    adapted = AdaptedRetriever(base, adapter)
    adapted_views = [adapted.truncated(d) for d in dims]
    systems: list[Retriever] = [*base_views, *adapted_views]
    tuned_views: list[Retriever] = []
    if tuned_model is not None:
        tuned = DenseRetriever(tuned_model, label="tuned", cache_dir=cache_dir, runner=runner)
        tuned_views = [tuned.truncated(d) for d in dims]
        systems += tuned_views
    if chunk_docs is not None:
        systems = [MaxPRetriever(s, chunk_docs) for s in systems]
    report = evaluate_retrievers(systems, docs, queries, qrels, dataset=dataset, split=split)

    def scores(system: Retriever) -> dict[str, float]:
        return report.systems[system.name].evaluation.per_query[PRIMARY]

    per_dim = [compare(scores(a), scores(b), PRIMARY, a.name, b.name) for b, a in zip(base_views, adapted_views)]
    tuned_cmp = [compare(scores(t), scores(b), PRIMARY, t.name, b.name) for b, t in zip(base_views, tuned_views)]
    rate = encode_rate if encode_rate is not None else measure_encode_rate(base.model, docs)
    costs = path_costs(adapter, len(docs), dims[0], rate, tuned_train_seconds)
    advice = recommend(per_dim, tuned_cmp, costs[1].reembed_seconds, reembed_budget_s)
    return AdapterComparison(report, dims, per_dim, tuned_cmp, costs, rate, len(docs), advice)


def compare_in_workspace(workspace: str | Path, base_model: str | Path, adapter: QueryAdapter | str | Path | None = None,
                         dims: Sequence[int] | None = None, **kwargs) -> AdapterComparison:
    """:func:`compare_base_and_adapter` on a workspace's chunks and eval split (``eval/queries.jsonl`` +
    ``eval/qrels.tsv``), documents scored by their best chunk, vectors cached in the workspace."""
    from embedtune.corpus import load_chunks
    from embedtune.corpus.chunk import chunk_documents
    from embedtune.retrieval.embedding_cache import default_cache_dir
    from embedtune.workspace.artifacts import EVAL_QRELS, EVAL_QUERIES

    ws = Path(workspace)
    chunks = load_chunks(ws)
    kwargs.setdefault("cache_dir", default_cache_dir(ws))
    return compare_base_and_adapter(chunk_documents(chunks), EVAL_QUERIES.read(ws), EVAL_QRELS.read(ws), base_model,
                                    adapter if adapter is not None else ws / "adapter", dims,
                                    chunk_docs={c.id: list(c.doc_ids) for c in chunks}, dataset=ws.name, split="eval",
                                    **kwargs)
