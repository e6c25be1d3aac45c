"""Hard negatives for every (query, positive) pair, in memory: the mining algorithm behind the ``mine`` stage.

Per query: retrieve the top-N candidates with the mining model (corpus vectors from the shared embedding cache,
so evaluation and mining encode a corpus once per model; faiss search in blocks of queries), drop every known
positive of the query, calibrate the positive-aware filters on this model and data, filter, optionally let a
cross-encoder drop or relabel what still looks relevant, and take ``num_negatives`` of the survivors. Rows short
of negatives are kept and counted, never dropped. The rank window's end, ``range_max``, is also the number of
candidates retrieved per query (the top-N).

References: Moreira et al., "NV-Retriever: Improving text embedding models with effective hard-negative mining"
(2024); Thakur et al., "Hard Negatives, Hard Lessons: Revisiting Training Data Quality for Robust Information
Retrieval with LLMs" (RLHN, 2025).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.mining.calibration import TunedFilter, calibrate, cross_encoder_leak
from embedtune.mining.candidates import Candidates, bm25_candidates, dense_candidates
from embedtune.mining.config import MiningConfig
from embedtune.mining.cross_encoder_check import CrossEncoderCheck
from embedtune.mining.filters import KEPT, count_reasons, reference_scores, removal_reasons
from embedtune.mining.report import MiningReport
from embedtune.mining.sampling import RowPlan, offer_order, row_rng, select
from embedtune.mining.summary import mining_report
from embedtune.retrieval.base import Document
from embedtune.workspace.artifacts import TRAIN_TRIPLETS
from embedtune.workspace.rows import TrainQuery, Triplet

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder, SentenceTransformer

    from embedtune.retrieval.runner import Runner

CE_CALIBRATION_QUERIES = 64  # queries whose whole candidate list the cross-encoder labels for calibration


@dataclass
class MinedRow:
    """One (query, positive) row: indices into the query's positives and candidate ranks."""

    query: int
    positive: int
    negatives: np.ndarray
    relabelled: list[int] = field(default_factory=list)


@dataclass
class Mined:
    """Everything :func:`mine_negatives` produced; :meth:`triplet_rows` renders the output rows lazily."""

    queries: Sequence[TrainQuery]
    docs: Sequence[Document]
    positives: list[np.ndarray]
    candidates: Candidates
    rows: list[MinedRow]
    report: MiningReport

    def triplets(self) -> Iterator[dict[str, Any]]:
        """The lines of ``train_triplets.jsonl`` as JSON objects, for callers that work on them as data."""
        return (TRAIN_TRIPLETS.dump(t) for t in self.triplet_rows())

    def triplet_rows(self) -> Iterator[Triplet]:
        """``train_triplets.jsonl`` rows, one per (query, positive), in input order."""
        c = self.candidates
        for row in self.rows:
            q = self.queries[row.query]
            pos = int(self.positives[row.query][row.positive])
            neg = c.doc_idx[row.query, row.negatives]
            rel = c.doc_idx[row.query, row.relabelled]
            yield Triplet(
                query_id=q.query_id,
                query=q.query,
                positive_id=self.docs[pos].id,
                positive=q.positive_text if q.positive_text and row.positive == 0 else self.docs[pos].full_text,
                positive_score=round(float(c.positive_scores[row.query][row.positive]), 6),
                negative_ids=[self.docs[i].id for i in neg],
                negatives=[self.docs[i].full_text for i in neg],
                negative_scores=[round(float(s), 6) for s in c.scores[row.query, row.negatives]],
                relabelled_positive_ids=[self.docs[i].id for i in rel],
                relabelled_positives=[self.docs[i].full_text for i in rel],
                weight=q.weight,
            )


def _ce_estimator(check: CrossEncoderCheck, cands: Candidates, refs: list[np.ndarray], config: MiningConfig):
    """Calibration by cross-encoder: label every retrieved candidate of a sample of queries."""

    def estimate(tuned: TunedFilter) -> tuple[np.ndarray, float]:
        rng = np.random.default_rng(config.seed)
        eligible = np.flatnonzero(np.isfinite(cands.scores[:, 0])) if cands.scores.shape[1] else np.zeros(0, int)
        sample = np.sort(rng.choice(eligible, min(CE_CALIBRATION_QUERIES, len(eligible)), replace=False))
        ranks = [np.flatnonzero(np.isfinite(cands.scores[q])) for q in sample]
        qs = np.concatenate([np.full(len(r), q) for q, r in zip(sample, ranks)] or [np.zeros(0, int)])
        rs = np.concatenate(ranks or [np.zeros(0, int)])
        verdicts = check.relevant(qs, cands.doc_idx[qs, rs].astype(np.int64))
        relevant, start = {}, 0
        for q, r in zip(sample, ranks):
            mask = np.zeros(cands.scores.shape[1], dtype=bool)
            mask[r] = verdicts[start : start + len(r)]
            relevant[int(q)], start = mask, start + len(r)
        return cross_encoder_leak(cands, {int(q): refs[q] for q in sample}, relevant, config, tuned)

    return estimate


def mine_negatives(
    queries: Sequence[TrainQuery],
    docs: Sequence[Document],
    config: MiningConfig = MiningConfig(),
    *,
    encoder: SentenceTransformer | None = None,
    model_hash: str | None = None,
    cache_dir: str | Path | None = None,
    cross_encoder: CrossEncoder | None = None,
    source: str = "api",
    warnings: Sequence[str] = (),
    runner: Runner | None = None,
) -> Mined:
    """Mine hard negatives for every (query, positive) pair; nothing is written (see :func:`mine` for the stage).

    Args:
        queries: training queries with their positives (ids of ``docs``).
        docs: the candidate passages.
        config: mining settings.
        encoder: a loaded SentenceTransformer; default: load ``config.model`` (unused with ``config.bm25``).
        model_hash: the model's content hash; with it, corpus vectors are cached in ``cache_dir``.
        cache_dir: embedding cache folder (see ``default_cache_dir``).
        cross_encoder: a loaded CrossEncoder; default: load ``config.cross_encoder`` if set.
        source: where the data came from, for the report.
        warnings: input warnings to carry into the report.
        runner: where corpus and queries are encoded (a Ray cluster, or this process: the default).
    """
    if not docs:
        raise EmbedtuneError("no candidate passages to mine negatives from (empty corpus)")
    if not queries:
        raise EmbedtuneError("no training queries to mine negatives for")
    if config.relabel and cross_encoder is None and config.cross_encoder is None:
        raise EmbedtuneError(
            "MiningConfig.relabel needs a MiningConfig.cross_encoder to decide which candidates are relevant"
        )
    t_start, seconds = time.perf_counter(), {}
    row_of = {d.id: i for i, d in enumerate(docs)}
    missing = [p for q in queries for p in q.positive_ids if p not in row_of]
    if missing:
        raise EmbedtuneError(f"positive id {missing[0]!r} is not in the corpus ({len(missing):,} such ids)")
    positives = [np.array([row_of[p] for p in q.positive_ids], dtype=np.int64) for q in queries]
    texts = [q.query for q in queries]

    cache_hit = None
    if config.bm25:
        from embedtune.retrieval.bm25 import BM25Retriever

        t = time.perf_counter()
        retriever = BM25Retriever()
        retriever.index(docs)
        seconds["index"] = time.perf_counter() - t
        t = time.perf_counter()
        cands = bm25_candidates(retriever, texts, positives, config.range_max)
        seconds["search"] = time.perf_counter() - t
    else:
        from embedtune.retrieval.runner import LOCAL

        runner = runner or LOCAL
        if encoder is None:
            from embedtune.models import load_embedder

            encoder = load_embedder(config.model, inference=config.inference)
        t = time.perf_counter()
        corpus = runner.encode_corpus(encoder, docs, cache_dir, model_hash=model_hash, batch_size=config.batch_size)
        cache_hit = corpus.cache_hit
        seconds["encode_corpus"] = time.perf_counter() - t
        t = time.perf_counter()
        query_vecs = runner.encode_texts(encoder, texts, "query", config.batch_size)
        seconds["encode_queries"] = time.perf_counter() - t
        t = time.perf_counter()
        cands = dense_candidates(query_vecs, corpus.vectors, positives, config.range_max)
        seconds["search"] = time.perf_counter() - t
        del corpus, query_vecs

    check = None
    if cross_encoder is not None or config.cross_encoder is not None:
        check = CrossEncoderCheck(
            cross_encoder if cross_encoder is not None else config.cross_encoder,  # type: ignore[arg-type]
            texts, [d.full_text for d in docs], positives, config.ce_threshold, config.ce_relative, config.batch_size,
        )

    t = time.perf_counter()
    rows_of = [range(len(p)) for p in positives]
    refs = [reference_scores(s, config.positive_reference) for s in cands.positive_scores]
    estimator = _ce_estimator(check, cands, refs, config) if check is not None and config.auto_threshold else None
    cal = calibrate(cands, cands.positive_scores, rows_of, config, estimator)
    requested = config
    if config.tuned_filter is not None and cal.chosen is not None:
        config = config.model_copy(update={config.tuned_filter: cal.chosen})
    seconds["calibrate"] = time.perf_counter() - t

    t = time.perf_counter()
    plans, counts = _plan_rows(queries, positives, cands, refs, config)
    seconds["filter"] = time.perf_counter() - t
    t = time.perf_counter()
    relevant = None
    if check is not None:
        def relevant(qs: np.ndarray, ranks: np.ndarray) -> np.ndarray:
            return check.relevant(qs, cands.doc_idx[qs, ranks].astype(np.int64))
    select(plans, config.num_negatives, relevant)
    seconds["cross_encoder" if check is not None else "sample"] = time.perf_counter() - t

    rows = [MinedRow(p.query, j, p.negatives(), p.flagged if config.relabel else [])
            for p, j in zip(plans, (j for pos in positives for j in range(len(pos))))]
    seconds["total"] = time.perf_counter() - t_start
    report = mining_report(queries, docs, cands, rows, plans, counts, cal, requested, config, check, source,
                           warnings, cache_hit, model_hash, seconds)
    return Mined(queries, docs, positives, cands, rows, report)


def _plan_rows(queries, positives, cands: Candidates, refs, config: MiningConfig) -> tuple[list[RowPlan], dict]:
    """Apply the filters to every row's candidates and order the survivors for sampling; count removals."""
    plans: list[RowPlan] = []
    removed = {"known_positive": 0, "rank_window": 0, "topk-abs": 0, "topk-marginpos": 0, "topk-percpos": 0}
    seen = survivors = 0
    shared = config.positive_reference == "min"  # one bar per query: every row shares the filter outcome
    for q, (query, pos) in enumerate(zip(queries, positives)):
        scores = cands.scores[q]
        codes = removal_reasons(scores, refs[q][:1] if shared else refs[q], config)
        weight = len(pos) if shared else 1
        for name, n in count_reasons(codes).items():
            removed[name] += n * weight
        survivors += int(np.count_nonzero(codes == KEPT)) * weight
        n_found = int(np.count_nonzero(np.isfinite(scores)))
        seen += len(pos) * (n_found + int(cands.positives_ranked[q]))
        removed["known_positive"] += len(pos) * int(cands.positives_ranked[q])
        kept = [np.flatnonzero(c == KEPT).astype(np.int32) for c in codes]
        for j, pos_id in enumerate(query.positive_ids):
            survivors_j = kept[0 if shared else j]
            rng = row_rng(config.seed, query.query_id, pos_id) if config.sampling == "random" else None
            plans.append(RowPlan(q, offer_order(survivors_j, config.sampling, rng)))
    return plans, {"seen": seen, "removed": removed, "survivors": survivors}
