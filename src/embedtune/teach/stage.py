"""The ``teach`` stage: label mined training rows with a stronger ranker, so training can distil it.

Per training row (a sample of ``train_triplets.jsonl``, the rows training will use): take its mined negatives and
the query's hybrid (BM25 + base model, RRF) top candidates, score the positive and ``candidates`` of them with the
teacher, then

- drop a candidate the teacher scores at or above the positive (a false negative: the mining filters judged it
  with the student's own eyes; the teacher reads query and passage together);
- drop the row when the teacher does not rank its positive in its top ``consistency_rank`` (consistency
  filtering of generated queries, as Promptagator and InPars do);
- keep the teacher's hardest ``keep_negatives`` survivors, with the teacher's labels for the positive and each.

Writes ``train_teacher.jsonl`` (the rows with ``labels`` = [positive, negatives...] and each raw signal),
``teach_report.json``. Every teacher score is cached in ``cache/teacher/`` as it is computed, so a kill resumes
without rescoring a pair, and a rerun with other filters or a larger budget scores only new pairs. Training then needs no teacher in memory.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.hashing import fingerprint_paths
from embedtune.progress import console, progress_bar
from embedtune.retrieval.base import Document, ranked
from embedtune.retrieval.runner import LOCAL, Runner
from embedtune.teach.config import TeachConfig
from embedtune.teach.score_cache import ScoreCache
from embedtune.teach.signals import Scorer, bi_encoder_scorer, cross_encoder_scorer, fuse, score_pairs
from embedtune.teach.teachers import TeacherPlan, plan_teacher
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import (
    CHUNKS,
    DEV_PAIRS,
    TEACH_REPORT,
    TEACHER_SCORES,
    TRAIN_PAIRS,
    TRAIN_TEACHER,
    TRAIN_TRIPLETS,
)
from embedtune.workspace.rows import TeacherRow, Triplet

STAGE = "teach"
FORMAT = 1
HYBRID_DEPTH = 30  # first-stage depth per system for the hybrid candidates


@dataclass
class TeachResult:
    """What :func:`teach` wrote, or found current (``reused``)."""

    path: Path
    report: dict[str, Any]
    reused: bool = False


def score_cache_path(ws: Workspace) -> Path:
    """Teacher scores of this workspace, kept across runs: a rerun with other filters or budgets re-reads them
    (keys name the signal's model by content hash, so another model never reuses them)."""
    return TEACHER_SCORES.path(ws)


def _inputs(ws: Workspace) -> dict[str, str]:
    needed = [a.path(ws) for a in (CHUNKS, TRAIN_PAIRS, TRAIN_TRIPLETS)]
    for p in needed:
        if not p.exists():
            raise EmbedtuneError(f"{p}: missing; run `embedtune mine` (or `embedtune run`) before `teach`")
    return fingerprint_paths(needed)


def _params(config: TeachConfig, plan: TeacherPlan, base_model: str) -> dict[str, Any]:
    from embedtune.models import resolve_model
    from embedtune.retrieval.embedding_cache import model_fingerprint

    return {"config": config.model_dump(), "format": FORMAT, "teacher": plan.describe(),
            "base_model": model_fingerprint(resolve_model(base_model)),
            "models": {k: model_fingerprint(p) for k, p in (("ce", plan.cross_encoder), ("dense", plan.dense)) if p}}


def signal_models(plan: TeacherPlan, base_model: str) -> dict[str, str]:
    """Content hash of the model behind each model signal (the base model stands in for a missing dense teacher):
    score cache keys carry it, so another model never reuses a score."""
    from embedtune.models import resolve_model
    from embedtune.retrieval.embedding_cache import model_fingerprint

    dense = plan.dense if plan.dense is not None else resolve_model(base_model)
    return {"cross-encoder": model_fingerprint(plan.cross_encoder) if plan.cross_encoder else "",
            "dense": model_fingerprint(dense)}


def teach(
    workspace: Workspace | str | Path, config: TeachConfig | None = None, base_model: str = "all-MiniLM-L6-v2",
    *, force: bool = False, runner: Runner = LOCAL,
) -> TeachResult:
    """Run the ``teach`` stage in ``workspace`` (after ``mine``); a rerun with the same inputs does nothing
    (unless ``force``). ``runner`` loads the base model for the hybrid candidates and encodes the corpus.

    Example::

        from embedtune.teach import TeachConfig, teach
        result = teach("embedtune-runs/default", TeachConfig(teacher="ensemble"))
        print(result.report["rows_out"], result.report["false_negatives_dropped"])
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    cfg = config or TeachConfig()
    plan = plan_teacher(cfg)
    inputs, params = _inputs(ws), _params(cfg, plan, base_model)
    out = TRAIN_TEACHER.path(ws)
    if not force and ws.is_current(STAGE, inputs, params) and TEACH_REPORT.exists(ws):
        console.print(f"teach is current, skipping ({out})", highlight=False)
        return TeachResult(out, TEACH_REPORT.read(ws), reused=True)
    with ws.stage(STAGE, inputs, params) as run:
        rows, report = _teach_rows(ws, cfg, plan, base_model, ScoreCache(score_cache_path(ws)),
                                   signal_models(plan, base_model), runner)
        TRAIN_TEACHER.write(run, rows)
        TEACH_REPORT.write(run, report)
        run.record.summary = {k: report[k] for k in ("teacher", "rows_in", "rows_out", "false_negatives_dropped")}
    return TeachResult(out, report)


def _student_margin(row: Triplet) -> float:
    """The base model's score gap between the row's positive and its hardest mined negative (small = hard row)."""
    positive = row.positive_score if row.positive_score is not None else float("inf")  # unscored: not known hard
    return positive - max(row.negative_scores, default=float("-inf"))


def _sample_rows(ws: Workspace, cfg: TeachConfig) -> list[Triplet]:
    """The rows to teach: ``hard_share`` of the budget from the rows the base model separates least, the rest a
    seeded random sample (the teacher's consistency filter then drops the hard rows that are only noise)."""
    rows = TRAIN_TRIPLETS.read(ws)
    if cfg.max_rows is None or len(rows) <= cfg.max_rows:
        return rows
    n_hard = int(round(cfg.hard_share * cfg.max_rows))
    if not n_hard:
        return random.Random(cfg.seed).sample(rows, cfg.max_rows)
    order = sorted(range(len(rows)), key=lambda i: _student_margin(rows[i]))
    hard, rest = order[:n_hard], order[n_hard:]
    chosen = hard + random.Random(cfg.seed).sample(rest, cfg.max_rows - n_hard)
    return [rows[i] for i in sorted(chosen)]


def _known_positives(ws: Workspace, rows: list[Triplet]) -> dict[str, set[str]]:
    known: dict[str, set[str]] = defaultdict(set)
    for q in TRAIN_PAIRS.iter(ws):
        known[q.query_id].update(q.positive_ids)
    for r in rows:
        known[r.query_id].update([r.positive_id, *r.relabelled_positive_ids])
    return known


def _hybrid_candidates(docs: list[Document], queries: dict[str, str], base_model: str, cache_dir: Path,
                       runner: Runner):
    """Each query's hybrid (BM25 + base model, RRF) ranking, and the hybrid retriever (its BM25 and encoder are
    reused for the teacher's signals)."""
    from embedtune.retrieval.bm25 import BM25Retriever
    from embedtune.retrieval.dense import DenseRetriever
    from embedtune.retrieval.hybrid import HybridRetriever

    hybrid = HybridRetriever([BM25Retriever(), DenseRetriever(base_model, cache_dir=cache_dir, runner=runner)],
                             depth=HYBRID_DEPTH)
    hybrid.index(docs)
    return {q: ranked(scores) for q, scores in hybrid.search(queries, HYBRID_DEPTH).items()}, hybrid


def load_scorers(plan: TeacherPlan, cfg: TeachConfig, base_encoder) -> dict[str, Scorer]:
    """The teacher's model signals, loaded; ``base_encoder`` (a SentenceTransformer) stands in for a missing dense
    teacher."""
    scorers: dict[str, Scorer] = {}
    if plan.cross_encoder is not None:
        from embedtune.retrieval.rerank import load_cross_encoder

        scorers["cross-encoder"] = cross_encoder_scorer(
            load_cross_encoder(plan.cross_encoder, max_length=cfg.max_length), cfg.batch_size)
    if "dense" in plan.signals:
        if plan.dense is not None:
            from embedtune.models.onnx_bi_encoder import OnnxBiEncoder

            bge = OnnxBiEncoder(plan.dense, max_length=cfg.max_length)
            scorers["dense"] = bi_encoder_scorer(lambda t: bge.encode(t, query=True, batch_size=cfg.batch_size),
                                                 lambda t: bge.encode(t, batch_size=cfg.batch_size))
        else:
            from embedtune.retrieval.embedding_cache import encode_texts

            model = base_encoder
            scorers["dense"] = bi_encoder_scorer(lambda t: encode_texts(model, t, "query", progress=False),
                                                 lambda t: encode_texts(model, t, "document", progress=False))
    return scorers


def _dev_quality(ws: Workspace, cfg: TeachConfig, plan: TeacherPlan, scorers: dict[str, Scorer], hybrid,
                 text_of: dict[str, str]) -> dict | None:
    """NDCG@10 on a sample of the dev slice (chunk level): base model, hybrid, and the teacher reranking hybrid's
    top 20 -- the teacher's own quality, next to the model it teaches."""
    from embedtune.evaluation.metrics import evaluate_run
    from embedtune.teach.reranker import TeacherReranker

    dev = DEV_PAIRS.read(ws) if DEV_PAIRS.exists(ws) else []
    if not dev:
        return None
    if len(dev) > cfg.dev_queries:
        dev = random.Random(cfg.seed).sample(dev, cfg.dev_queries)
    queries = {p.query_id: p.query for p in dev}
    qrels = {p.query_id: dict.fromkeys(p.positive_ids, 1) for p in dev}
    bm25, dense = hybrid.retrievers
    first = hybrid.search(queries, 100)
    reranker = TeacherReranker(plan, cfg, scorers, bm25=bm25, ids=list(text_of))
    runs = {"base": dense.search(queries, 100), "hybrid": first, "teacher": reranker.rerank(queries, first, text_of, 20)}
    return {name: round(evaluate_run(qrels, run, ["ndcg@10"]).means["ndcg@10"], 4) for name, run in runs.items()} | {
        "queries": len(queries)}


def _teach_rows(
    ws: Workspace, cfg: TeachConfig, plan: TeacherPlan, base_model: str, cache: ScoreCache, models: dict[str, str],
    runner: Runner,
) -> tuple[list[TeacherRow], dict[str, Any]]:
    from embedtune.corpus.chunk import chunk_documents
    from embedtune.retrieval.embedding_cache import default_cache_dir

    t0 = time.perf_counter()
    docs = chunk_documents(CHUNKS.read(ws))
    text_of = {d.id: d.text for d in docs}
    rows = _sample_rows(ws, cfg)
    known = _known_positives(ws, rows)
    queries = {r.query_id: r.query for r in rows}
    hybrid_top, hybrid = _hybrid_candidates(docs, queries, base_model, default_cache_dir(ws.root), runner)
    pools = []
    for r in rows:
        ids = [*r.negative_ids, *hybrid_top.get(r.query_id, [])]
        pool = [d for d in dict.fromkeys(ids) if d not in known[r.query_id] and d in text_of][: cfg.candidates]
        pools.append(pool)
    seconds = {"candidates": round(time.perf_counter() - t0, 1)}

    # Every model signal scores (query, positive) and (query, candidate) pairs, the positive first per row.
    pairs = [(r.query, t) for r, pool in zip(rows, pools) for t in (r.positive, *(text_of[d] for d in pool))]
    sizes = [1 + len(p) for p in pools]
    raw: dict[str, np.ndarray] = {}
    scorers = load_scorers(plan, cfg, hybrid.retrievers[1].model)
    with progress_bar() as bar:
        for name, scorer in scorers.items():
            t = time.perf_counter()
            task = bar.add_task(f"teacher: {name}", total=len(pairs))
            raw[name] = score_pairs(f"{name}:{models[name][:16]}", pairs, scorer, cache,
                                    lambda n, task=task: bar.advance(task, n))
            bar.update(task, completed=len(pairs))
            seconds[name] = round(time.perf_counter() - t, 1)
    if "bm25" in plan.signals:
        bm25, index = hybrid.retrievers[0], {d.id: i for i, d in enumerate(docs)}
        out = []
        for r, pool in zip(rows, pools):
            s = bm25.scores(r.query)
            pos = s[index[r.positive_id]] if r.positive_id in index else 0.0
            out.extend([pos, *(s[index[d]] for d in pool)])
        raw["bm25"] = np.asarray(out, dtype=np.float32)

    taught, inconsistent, false_neg, start = [], 0, 0, 0
    for r, pool, n in zip(rows, pools, sizes):
        signals = {name: raw[name][start : start + n] for name in plan.signals}
        start += n
        labels = fuse(list(signals.values()), cfg.spread)
        rank = int(np.sum(labels[1:] > labels[0])) + 1
        if cfg.consistency_rank is not None and rank > cfg.consistency_rank:
            inconsistent += 1
            continue
        keep = [i for i in np.argsort(-labels[1:], kind="stable") if labels[1 + i] < labels[0] - cfg.margin]
        false_neg += len(pool) - len([i for i in range(len(pool)) if labels[1 + i] < labels[0] - cfg.margin])
        keep = keep[: cfg.keep_negatives]
        if not keep:
            continue
        taught.append(TeacherRow(
            query_id=r.query_id, query=r.query, positive_id=r.positive_id, positive=r.positive,
            negative_ids=[pool[i] for i in keep], negatives=[text_of[pool[i]] for i in keep],
            labels=[round(float(labels[0]), 5), *(round(float(labels[1 + i]), 5) for i in keep)],
            signals={k: [round(float(v[0]), 5), *(round(float(v[1 + i]), 5) for i in keep)] for k, v in signals.items()},
            weight=r.weight,
        ))
    t = time.perf_counter()
    dev = _dev_quality(ws, cfg, plan, scorers, hybrid, text_of) if cfg.dev_queries else None
    seconds["dev"] = round(time.perf_counter() - t, 1)
    report = {
        "teacher": plan.describe(), "dev_ndcg@10": dev, "signals": list(plan.signals), "rows_in": len(rows), "rows_out": len(taught),
        "dropped_inconsistent": inconsistent, "false_negatives_dropped": false_neg,
        "pairs_scored": {k: int(len(v)) for k, v in raw.items()}, "candidates_per_row": cfg.candidates,
        "seconds": seconds,
    }
    if not taught:
        raise EmbedtuneError(f"teach: no row survived the teacher's filters out of {len(rows):,}; "
                             "lower consistency_rank or set it to null")
    return taught, report
