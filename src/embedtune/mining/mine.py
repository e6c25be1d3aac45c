"""The ``mine`` stage: hard negatives for every (query, positive chunk) pair of the training split.

Pipeline, per query: retrieve the top-N candidates with the mining model (corpus vectors from the shared
embedding cache, so evaluation and mining encode a corpus once per model; faiss search in blocks of queries),
drop every known positive of the query, calibrate the positive-aware filters on this model and data, filter,
optionally let a cross-encoder drop or relabel what still looks relevant, and take ``num_negatives`` of the
survivors. Rows short of negatives are kept and counted, never dropped.

Inputs: ``chunks.jsonl`` and ``train_pairs.jsonl`` of a workspace, or a BEIR folder's queries and qrels (the
corpus documents are the candidates). Outputs: ``train_triplets.jsonl`` (one row per pair: ``query_id, query,
positive_id, positive, positive_score, negative_ids, negatives, negative_scores, relabelled_positive_ids,
relabelled_positives, weight``), ``mining_report.json`` and ``mining_report.html``. The rank window's end,
``range_max``, is also the number of candidates retrieved per query (the top-N). Iterative rounds work by passing a
trained model's folder as the mining model: the embedding cache keys on the model's content, so a new model
re-encodes and a rerun with the same model and inputs is a no-op.

References: Moreira et al., "NV-Retriever: Improving text embedding models with effective hard-negative mining"
(2024); Thakur et al., "Hard Negatives, Hard Lessons: Revisiting Training Data Quality for Robust Information
Retrieval with LLMs" (RLHN, 2025).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedtune.errors import EmbedtuneError, InputError
from embedtune.hashing import sha256_file
from embedtune.mining.calibration import (
    Calibration,
    TunedFilter,
    calibrate,
    cross_encoder_leak,
    summarize,
)
from embedtune.mining.candidates import Candidates, bm25_candidates, dense_candidates
from embedtune.mining.config import MiningConfig
from embedtune.mining.cross_encoder_check import CrossEncoderCheck
from embedtune.mining.filters import KEPT, count_reasons, reference_scores, removal_reasons
from embedtune.mining.report import HTML_FILE, REPORT_FILE, Histogram, MiningReport, mining_html
from embedtune.mining.sampling import RowPlan, offer_order, row_rng, select
from embedtune.progress import console
from embedtune.retrieval.base import Document
from embedtune.workspace import Workspace, read_jsonl, write_jsonl

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder, SentenceTransformer

    from embedtune.dataset import TrainQuery
    from embedtune.training.data import TrainPair

STAGE = "mine"
CHUNKS_FILE = "chunks.jsonl"
PAIRS_FILE = "train_pairs.jsonl"
TRIPLETS_FILE = "train_triplets.jsonl"
FORMAT = 1  # bump when the triplet rows change, so existing outputs are recomputed
CE_CALIBRATION_QUERIES = 64  # queries whose whole candidate list the cross-encoder labels for calibration
EMPTY_ROWS_WARNING = 0.25  # share of rows left without any negative that deserves a warning

REFERENCE_TEXT = {
    "min": "Filters compare each candidate with the query's weakest known positive, the same bar for every row of "
           "the query: a passage the model scores close to any passage known to be relevant is suspect, whichever "
           "positive the row trains on.",
    "own": "Filters compare each candidate with the row's own positive: more negatives when a query's positives "
           "score very differently, at a higher false-negative risk than the query's weakest positive.",
}


@dataclass
class MinedRow:
    """One (query, positive) row: indices into the query's positives and candidate ranks."""

    query: int
    positive: int
    negatives: np.ndarray
    relabelled: list[int] = field(default_factory=list)


@dataclass
class Mined:
    """Everything :func:`mine_negatives` produced; :meth:`triplets` renders the output rows lazily."""

    queries: Sequence[TrainQuery]
    docs: Sequence[Document]
    positives: list[np.ndarray]
    candidates: Candidates
    rows: list[MinedRow]
    report: MiningReport

    def triplets(self) -> Iterator[dict[str, Any]]:
        """``train_triplets.jsonl`` rows, one per (query, positive), in input order."""
        c = self.candidates
        for row in self.rows:
            q = self.queries[row.query]
            pos = int(self.positives[row.query][row.positive])
            neg = c.doc_idx[row.query, row.negatives]
            rel = c.doc_idx[row.query, row.relabelled]
            yield {
                "query_id": q.query_id,
                "query": q.query,
                "positive_id": self.docs[pos].id,
                "positive": q.positive_text if q.positive_text and row.positive == 0 else self.docs[pos].full_text,
                "positive_score": round(float(c.positive_scores[row.query][row.positive]), 6),
                "negative_ids": [self.docs[i].id for i in neg],
                "negatives": [self.docs[i].full_text for i in neg],
                "negative_scores": [round(float(s), 6) for s in c.scores[row.query, row.negatives]],
                "relabelled_positive_ids": [self.docs[i].id for i in rel],
                "relabelled_positives": [self.docs[i].full_text for i in rel],
                "weight": q.weight,
            }


@dataclass
class MiningResult:
    """What :func:`mine` wrote (or found current) in the workspace."""

    report: MiningReport
    triplets_path: Path
    report_path: Path
    html_path: Path


def chunk_documents(chunks: Sequence[Any]) -> list[Document]:
    """Candidate documents from ``Chunk`` objects: the chunk's ``text`` is exactly what gets embedded."""
    return [Document(id=c.id, text=c.text) for c in chunks]


def load_train_pairs(path: str | Path, doc_ids: set[str]) -> tuple[list[TrainQuery], list[str]]:
    """Queries of a ``train_pairs.jsonl``, with positives restricted to ``doc_ids``, and warnings.

    Rows are read (and validated) by :func:`embedtune.dataset.iter_pairs`. Rows sharing a ``query_id`` (one row
    per pair, as some tools write them) are merged into one query with all their positives, the first row's
    ``positive_text`` and the last row's weight. Unknown positive ids are dropped and counted; a query left
    without one is skipped.
    """
    # Imported here: the dataset package loads the corpus loaders, which mining from BEIR never needs.
    from embedtune.dataset import iter_pairs

    merged: dict[str, TrainQuery] = {}
    for line, q in enumerate(iter_pairs(path), 1):
        old = merged.get(q.query_id)
        if old is not None and old.query != q.query:
            raise InputError(path, f"query_id {q.query_id!r} appears twice with different texts", line=line)
        ids = tuple(dict.fromkeys((*(old.positive_ids if old else ()), *q.positive_ids)))
        merged[q.query_id] = replace(old or q, positive_ids=ids, weight=q.weight)
    if not merged:
        raise EmbedtuneError(
            f"{path}: no training pairs (empty file); run `embedtune split` (or `embedtune run`) first"
        )
    warnings: list[str] = []
    unknown = sum(p not in doc_ids for q in merged.values() for p in q.positive_ids)
    total = sum(len(q.positive_ids) for q in merged.values())
    queries = [replace(q, positive_ids=tuple(p for p in q.positive_ids if p in doc_ids),
                       positive_text=q.positive_text if q.positive_ids[:1] and q.positive_ids[0] in doc_ids else None)
               for q in merged.values()]
    kept = [q for q in queries if q.positive_ids]
    if not kept:
        raise EmbedtuneError(
            f"{path}: none of its {total:,} positive ids is a chunk id in {CHUNKS_FILE} (were the chunks re-ingested "
            f"after the split? run `embedtune split` again)"
        )
    if unknown:
        warnings.append(f"{path}: dropped {unknown:,} of {total:,} positive ids that are not chunk ids")
    if len(kept) < len(queries):
        warnings.append(f"{path}: skipped {len(queries) - len(kept):,} queries without a known positive chunk")
    return kept, warnings


def beir_queries(dataset: Any) -> list[TrainQuery]:
    """Queries of a loaded BEIR split with their relevant (grade > 0) documents as positives."""
    from embedtune.dataset import TrainQuery

    return [
        TrainQuery(q, dataset.queries[q], tuple(d for d, g in rel.items() if g > 0))
        for q, rel in dataset.qrels.items()
        if any(g > 0 for g in rel.values())
    ]


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


def _encode_queries(encoder: SentenceTransformer, texts: list[str], batch_size: int) -> np.ndarray:
    """Query vectors, on the Ray actors that encode the corpus when ``--ray-address`` is set (see
    ``docs/scaling.md``: with offline signals there are more queries than chunks), else in this process."""
    from embedtune.encoding.base import inference_of, model_path_of
    from embedtune.retrieval.embedding_cache import encode_texts
    from embedtune.scale import ray_address

    if ray_address() is not None and (path := model_path_of(encoder)) is not None:
        from embedtune.retrieval.ray_encode import encode_texts_ray

        return encode_texts_ray(path, texts, "query", inference=inference_of(encoder), batch_size=batch_size)
    return encode_texts(encoder, texts, "query", batch_size)


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
    """
    if not docs:
        raise EmbedtuneError("no candidate passages to mine negatives from (empty corpus)")
    if not queries:
        raise EmbedtuneError("no training queries to mine negatives for")
    if config.relabel and cross_encoder is None and config.cross_encoder is None:
        raise EmbedtuneError("--relabel needs a --cross-encoder to decide which candidates are relevant")
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
        from embedtune.retrieval.embedding_cache import encode_corpus

        if encoder is None:
            from embedtune.models import load_embedder

            encoder = load_embedder(config.model, inference=config.inference)
        t = time.perf_counter()
        corpus = encode_corpus(encoder, docs, cache_dir, model_hash=model_hash, batch_size=config.batch_size)
        cache_hit = corpus.cache_hit
        seconds["encode_corpus"] = time.perf_counter() - t
        t = time.perf_counter()
        query_vecs = _encode_queries(encoder, texts, config.batch_size)
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
    report = _report(queries, docs, cands, rows, plans, counts, cal, requested, config, check, source, warnings,
                     cache_hit, model_hash, seconds)
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


def _report(queries, docs, cands, rows, plans, counts, cal: Calibration, requested: MiningConfig,
            config: MiningConfig, check, source, warnings, cache_hit, model_hash, seconds) -> MiningReport:
    k = config.num_negatives
    n_neg = np.array([len(r.negatives) for r in rows])
    short_queries = {r.query for r, n in zip(rows, n_neg) if n < k}
    neg_scores = np.concatenate([cands.scores[r.query, r.negatives] for r in rows] or [np.zeros(0)])
    pos_scores = np.concatenate(cands.positive_scores)
    flagged = sum(len(p.flagged) for p in plans)
    removed = dict(counts["removed"])
    if check is not None and not config.relabel:
        removed["cross_encoder"] = flagged
    notes = []
    if config.bm25:
        notes.append("BM25 mode: the filters compare BM25 scores with the positive's BM25 score; percpos is a ratio, "
                     "so 0.95 means the same as with cosines, while --margin and --max-score are in BM25 units.")
    if config.range_min:
        notes.append(f"rank window: the top {config.range_min} non-positive candidates are skipped whatever their "
                     f"score (sentence-transformers instead skips the top range_min of the candidates that pass its "
                     f"margin filter).")
    warnings = list(warnings)
    empty = int(np.count_nonzero(n_neg == 0))
    if empty > EMPTY_ROWS_WARNING * len(rows):
        seen = max(counts["seen"], 1)
        warnings.append(
            f"{empty:,} of {len(rows):,} rows got no negative: the filters removed "
            f"{1 - counts['survivors'] / seen:.0%} of the top-{config.range_max} candidates, so the usable ones rank "
            f"deeper; raise --range-max (e.g. {config.range_max * 10}), or try --positive-reference own when queries "
            f"have many positives of uneven scores"
        )
    return MiningReport(
        mode="bm25" if config.bm25 else "dense",
        model=None if config.bm25 else config.model,
        model_hash=model_hash,
        cross_encoder=config.cross_encoder if config.cross_encoder is not None else ("in-memory" if check else None),
        source=source,
        config=requested.model_dump(),
        effective={"percpos": config.percpos, "margin": config.margin, "max_score": config.max_score},
        reference=REFERENCE_TEXT[config.positive_reference],
        queries=len(queries),
        rows=len(rows),
        corpus=len(docs),
        candidates_seen=counts["seen"],
        removed=removed,
        survivors=counts["survivors"],
        ce_checked=sum(p.offered for p in plans) if check is not None else 0,
        relabelled=flagged if config.relabel else 0,
        negatives=int(n_neg.sum()),
        rows_short=int(np.count_nonzero(n_neg < k)),
        rows_without_negatives=empty,
        queries_short=len(short_queries),
        calibration=cal,
        scores={"positive": summarize(pos_scores), "candidate": summarize(cands.scores.ravel()),
                "negative": summarize(neg_scores)},
        histogram=Histogram.of({"positive": pos_scores, "candidate": cands.scores.ravel(), "negative": neg_scores}),
        cache_hit=cache_hit,
        seconds={phase: round(t, 3) for phase, t in seconds.items()},
        warnings=warnings,
        notes=notes,
    )


def _input_hashes(ws: Workspace, dataset: Path | None, split: str) -> dict[str, str]:
    if dataset is not None:
        from embedtune.evaluation.beir import load_beir

        files = {name: dataset / name for name in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv")}
        if not all(p.is_file() for p in files.values()):
            load_beir(dataset, split, warn=False)  # raises the one-line error naming what is missing
        return {name: sha256_file(p) for name, p in files.items()}
    pairs = ws.path(PAIRS_FILE)
    if not pairs.exists():
        raise EmbedtuneError(f"{pairs}: no training pairs yet; run `embedtune split` (or `embedtune run`) first")
    chunks = ws.path(CHUNKS_FILE)
    if not chunks.exists():
        raise EmbedtuneError(f"{chunks}: no chunks yet; run `embedtune ingest PATH --workspace {ws.root}` first")
    return {CHUNKS_FILE: sha256_file(chunks), PAIRS_FILE: sha256_file(pairs)}


def _load_inputs(
    ws: Workspace, dataset: Path | None, split: str
) -> tuple[list[TrainQuery], list[Document], str, list[str]]:
    if dataset is not None:
        from embedtune.evaluation.beir import load_beir

        data = load_beir(dataset, split, warn=False)
        return beir_queries(data), data.corpus, f"beir:{data.name}/{split}", list(data.warnings)
    from embedtune.corpus.chunk import load_chunks

    docs = chunk_documents(load_chunks(ws))
    if not docs:
        raise EmbedtuneError(f"{ws.path(CHUNKS_FILE)}: no chunks (empty file); run `embedtune ingest` again")
    queries, warnings = load_train_pairs(ws.path(PAIRS_FILE), {d.id for d in docs})
    return queries, docs, "workspace", warnings


def mine(
    workspace: str | Path | Workspace,
    config: MiningConfig = MiningConfig(),
    *,
    dataset: str | Path | None = None,
    split: str = "train",
    force: bool = False,
) -> MiningResult:
    """Run the ``mine`` stage: write ``train_triplets.jsonl``, ``mining_report.json`` and ``mining_report.html``.

    Args:
        workspace: the run folder (inputs ``chunks.jsonl`` and ``train_pairs.jsonl`` unless ``dataset``).
        config: mining settings.
        dataset: a BEIR folder instead: its ``split`` queries and qrels, its corpus as candidates.
        split: qrels split of ``dataset``.
        force: mine even when the stage is current (same inputs, settings and model content).

    A rerun with the same inputs, settings and model (by content) returns the existing report (``reused``).
    """
    from embedtune.retrieval.embedding_cache import default_cache_dir, model_fingerprint

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    dataset = Path(dataset) if dataset is not None else None
    inputs = _input_hashes(ws, dataset, split)
    model_hash = None
    if not config.bm25:
        from embedtune.models import resolve_model

        model_hash = model_fingerprint(resolve_model(config.model))
    ce_hash = None
    if config.cross_encoder is not None:
        from embedtune.retrieval.rerank import resolve_cross_encoder

        ce_hash = model_fingerprint(resolve_cross_encoder(config.cross_encoder))
    # inference is left out for torch, so workspaces mined before backends existed stay current
    params = config.model_dump(exclude={"inference"} if config.inference == "torch" else None) | {"model_hash": model_hash, "cross_encoder_hash": ce_hash, "format": FORMAT,
                                    "split": split if dataset is not None else None}
    paths = ws.path(TRIPLETS_FILE), ws.path(REPORT_FILE), ws.path(HTML_FILE)
    if not force and ws.is_current(STAGE, inputs, params) and paths[1].exists():
        console.print(f"mine is current, skipping ({paths[0]})", highlight=False)
        return MiningResult(MiningReport.load(paths[1]).model_copy(update={"reused": True}), *paths)
    queries, docs, source, warnings = _load_inputs(ws, dataset, split)
    with ws.stage(STAGE, inputs, params) as run:
        mined = mine_negatives(queries, docs, config, model_hash=model_hash, cache_dir=default_cache_dir(ws.root),
                               source=source, warnings=warnings)
        write_jsonl(run.add_output(TRIPLETS_FILE), mined.triplets())
        mined.report.save(run.add_output(REPORT_FILE))
        mining_html(mined.report).save(run.add_output(HTML_FILE))
        r = mined.report
        run.record.summary = {"rows": r.rows, "negatives": r.negatives, "rows_short": r.rows_short,
                              "threshold": r.calibration.explanation}
    return MiningResult(mined.report, *paths)


def load_triplets(path: str | Path, include_relabelled: bool = True) -> list[TrainPair]:
    """Training rows from ``train_triplets.jsonl``: one :class:`TrainPair` per (query, positive) row.

    With ``include_relabelled``, each passage the cross-encoder relabelled as a positive of a query adds one
    more row (once per query) with the same negatives, as RLHN trains on them.
    """
    # Imported here: the training package loads sentence-transformers, which BM25 mining never needs.
    from embedtune.training.data import TrainPair

    path = Path(path)
    if not path.exists():
        raise EmbedtuneError(f"{path}: no mined triplets; run `embedtune mine` first")
    out: list[TrainPair] = []
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(read_jsonl(path), 1):
        try:
            negatives = tuple(row["negatives"])
            out.append(TrainPair(row["query"], row["positive"], negatives))
            if include_relabelled:
                for pid, text in zip(row.get("relabelled_positive_ids", []), row.get("relabelled_positives", [])):
                    if (row["query_id"], pid) not in seen:
                        seen.add((row["query_id"], pid))
                        out.append(TrainPair(row["query"], text, negatives))
        except (KeyError, TypeError):
            raise InputError(
                path, "not a train_triplets.jsonl row (needs query, positive, negatives)", line=line
            ) from None
    return out
