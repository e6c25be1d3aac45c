"""``embedtune retrain``: the next model version from real users' clicks, promoted only if it does not regress.

One round, in ``<workspace>/retrain-<n>/`` (like the pipeline's ``round-<n>/``, so earlier outputs stay valid):

1. split the feedback log into training searches and held-out searches (newest by time, or by query hash);
   held-out query texts are removed from training so the held-out check is honest;
2. fit the position-bias curve and the click noise floor on the training searches
   (:mod:`embedtune.feedback.propensity`, :mod:`embedtune.feedback.ipw`) and turn clicks into (query, clicked
   chunk) pairs weighted by their debiased click rate above the noise floor (or by click count: ``naive``);
3. mine hard negatives for synthetic + feedback queries together with the current model (``mine`` in
   ``retrain-<n>/mine/``); skipped-above results that pass the positive-aware filter go first in a feedback
   row's negatives;
4. mix the rows (``feedback_share`` of them from feedback, drawn in proportion to their weights, since the
   trainer has no sample weights) into ``retrain-<n>/train_triplets.jsonl`` and continue training the current
   model (``train_stage``);
5. compare candidate and current on the golden set (``eval/``) and on held-out feedback labelled by the same
   debiased clicks; the gate
   (:mod:`embedtune.feedback.gate`) decides; the round is appended to ``retrain_history.json``.

Every step is a recorded stage or a pure function of its inputs, so a killed round resumes where it was.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console

from embedtune.errors import EmbedtuneError
from embedtune.evaluation.significance import Comparison
from embedtune.feedback.gate import HeldOut, compare_models, feedback_heldout, gate
from embedtune.feedback.history import (
    RoundRecord,
    current_model,
    load_history,
    save_history,
)
from embedtune.feedback.ipw import (
    ClickPair,
    ShownCells,
    click_pairs,
    filter_negatives,
    resample_by_weight,
)
from embedtune.feedback.log import FeedbackRecord, now, read_log
from embedtune.feedback.propensity import Propensity, estimate_propensity, query_key
from embedtune.feedback.retrain_config import RetrainConfig
from embedtune.hashing import sha256_file
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import (
    CHUNKS,
    DEV_PAIRS,
    EVAL_QRELS,
    EVAL_QUERIES,
    RETRAIN_MINING,
    RETRAIN_ROUNDS,
    TRAIN_PAIRS,
    TRAIN_TRIPLETS,
)
from embedtune.workspace.rows import TrainQuery, Triplet
from embedtune.progress import make_console

FEEDBACK_PREFIX = "fb-"


@dataclass
class RetrainResult:
    """The recorded round plus the comparisons behind its verdict."""

    record: RoundRecord
    propensity: Propensity
    comparisons: dict[str, Comparison | None]


def split_feedback(records: Sequence[FeedbackRecord], config: RetrainConfig
                   ) -> tuple[list[FeedbackRecord], list[FeedbackRecord]]:
    """(training, held-out) searches; no held-out query text is left in training."""
    if config.holdout == "time":
        ordered = sorted(records, key=lambda r: r.timestamp)
        cut = int(round(len(ordered) * (1 - config.holdout_share)))
        train, held = ordered[:cut], ordered[cut:]
    else:
        def bucket(r: FeedbackRecord) -> float:
            digest = hashlib.sha256(f"{config.seed}:{query_key(r.query)}".encode()).digest()
            return int.from_bytes(digest[:8], "big") / 2**64
        train = [r for r in records if bucket(r) >= config.holdout_share]
        held = [r for r in records if bucket(r) < config.holdout_share]
    held_keys = {query_key(r.query) for r in held}
    return [r for r in train if query_key(r.query) not in held_keys], held


def query_id(text: str) -> str:
    return FEEDBACK_PREFIX + hashlib.sha256(query_key(text).encode()).hexdigest()[:16]


def _copy_if_changed(src: Path, dst: Path) -> None:
    if src.exists() and (not dst.exists() or sha256_file(src) != sha256_file(dst)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def _mining_pairs(ws: Workspace, pairs: Sequence[ClickPair], config: RetrainConfig) -> list[TrainQuery]:
    """train_pairs rows for mining: the synthetic set (unless feedback only) plus one row per feedback query."""
    rows: list[TrainQuery] = []
    if config.feedback_share < 1 and TRAIN_PAIRS.exists(ws):
        rows.extend(TRAIN_PAIRS.iter(ws))
    by_query: dict[str, TrainQuery] = {}
    for p in pairs:
        qid = query_id(p.query)
        old = by_query.get(qid) or TrainQuery(qid, p.query, (), 0.0, "feedback")
        by_query[qid] = replace(old, positive_ids=(*old.positive_ids, p.doc_id), weight=round(old.weight + p.weight, 6))
    return rows + list(by_query.values())


def _scorer(model: str):
    """``score(queries, doc_ids)`` with the current model, for the skipped-above filter."""
    from embedtune.models import load_embedder
    from embedtune.retrieval.embedding_cache import encode_texts

    encoder = load_embedder(model)

    def score(texts: dict[str, str]):
        def fn(queries: list[str], docs: list[str]) -> np.ndarray:
            uq, ud = sorted(set(queries)), sorted(set(docs))
            qv = dict(zip(uq, encode_texts(encoder, uq, "query", progress=False)))
            dv = dict(zip(ud, encode_texts(encoder, [texts[d] for d in ud], "document", progress=False)))
            return np.array([float(qv[q] @ dv[d]) for q, d in zip(queries, docs)])
        return fn

    return score


def _training_rows(mine_ws: Workspace, pairs: Sequence[ClickPair], negatives: dict[tuple[str, str], list[str]],
                   texts: dict[str, str], config: RetrainConfig) -> tuple[list[Triplet], dict[str, int]]:
    """Synthetic rows plus feedback rows drawn by weight, ``feedback_share`` of the total."""
    weight = {(query_id(p.query), p.doc_id): p.weight for p in pairs}
    by_pair = {(query_id(p.query), p.doc_id): p for p in pairs}
    synthetic: list[Triplet] = []
    feedback: list[Triplet] = []
    for row in TRAIN_TRIPLETS.iter(mine_ws):
        key = (row.query_id, row.positive_id)
        if not row.query_id.startswith(FEEDBACK_PREFIX):
            synthetic.append(row)
            continue
        extra = negatives.get((by_pair[key].query, row.positive_id), []) if key in by_pair else []
        if extra:  # skipped-above negatives first: the trainer takes the first `hard_negatives`
            ids = extra + [i for i in row.negative_ids if i not in extra]
            row = row.model_copy(update={"negative_ids": ids, "negatives": [texts[i] for i in ids],
                                         "negative_scores": []})
        feedback.append(row.model_copy(update={"weight": weight.get(key, 1.0)}))
    if not feedback:
        raise EmbedtuneError("no feedback training rows: no clicked result is a chunk of this workspace")
    total = config.train.max_rows or (len(synthetic) + len(feedback))
    n_fb = total if not synthetic else max(1, int(round(total * config.feedback_share)))
    rng = np.random.default_rng(config.seed)
    n_syn = min(len(synthetic), total - n_fb)
    syn = [synthetic[i] for i in sorted(rng.choice(len(synthetic), n_syn, replace=False))] if n_syn else []
    fb = [feedback[i] for i in resample_by_weight([r.weight for r in feedback], n_fb, config.seed)]
    return syn + fb, {"synthetic_rows": len(syn), "feedback_rows": len(fb), "feedback_pairs": len(feedback)}


def _golden(ws: Workspace, docs, chunk_docs) -> HeldOut | None:
    if not (EVAL_QUERIES.exists(ws) and EVAL_QRELS.exists(ws)):
        return None
    return HeldOut("golden", docs, EVAL_QUERIES.read(ws), EVAL_QRELS.read(ws), chunk_docs)


def retrain(
    workspace: str | Path | Workspace,
    feedback: str | Path,
    config: RetrainConfig = RetrainConfig(),
    *,
    model: str | None = None,
    console: Console | None = None,
) -> RetrainResult:
    """Run one retraining round (see the module docstring); returns what was recorded in the history.

    Args:
        workspace: a pipeline workspace (``chunks.jsonl``; ``train_pairs.jsonl`` and ``eval/`` when present).
        feedback: a feedback log (:mod:`embedtune.feedback.log`).
        config: retraining settings.
        model: the current model, when neither the history nor the workspace says which it is.
    """
    from embedtune.corpus import load_chunks
    from embedtune.corpus.chunk import chunk_documents
    from embedtune.mining import mine
    from embedtune.retrieval.embedding_cache import default_cache_dir
    from embedtune.training.stage import train_stage, trained_model_dir

    console = console or make_console(stderr=True)
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    started = now()
    history = load_history(ws)
    current = current_model(ws, history, fallback=model) if model is None else model
    n = len(history.rounds) + 1
    chunks = load_chunks(ws)
    texts = {c.id: c.text for c in chunks}
    records = read_log(feedback)
    if not records:
        raise EmbedtuneError(f"{feedback}: the feedback log is empty")
    train_records, held_records = split_feedback(records, config)
    console.print(f"round {n}: {len(train_records):,} training searches, {len(held_records):,} held out "
                  f"({config.holdout}); current model {current}", highlight=False)

    # The curve and the noise floor also label the held-out feedback for the gate, so naive rounds fit them too.
    propensity = estimate_propensity(train_records, config.propensity, config.max_rank, config.min_dwell_s)
    shown = ShownCells.of(train_records, propensity, config.min_dwell_s)  # one build for the floor and the weights
    floor = shown.noise_floor()
    curve = " ".join(f"{t:.2f}" for t in propensity.theta)
    console.print(f"position bias ({propensity.method}): {curve}; clicks once examined: relevant "
                  f"{floor.relevant:.3f}, noise floor {floor.noise:.3f}", highlight=False)
    pairs = [p for p in click_pairs(train_records, propensity, weighting=config.weighting, clip=config.clip,
                                    min_dwell_s=config.min_dwell_s, floor=floor, shown=shown) if p.doc_id in texts]
    for p in pairs:
        p.skipped_above = {d: c for d, c in p.skipped_above.items() if d in texts}
    if not pairs:
        raise EmbedtuneError(f"{feedback}: no click on a chunk of {CHUNKS.path(ws)} among the training "
                             f"searches; was the log written by a server over this workspace's index?")

    round_ws = Workspace(RETRAIN_ROUNDS.path(ws, n))
    mine_ws = Workspace(RETRAIN_MINING.path(round_ws))
    for target in (round_ws, mine_ws):
        _copy_if_changed(CHUNKS.path(ws), CHUNKS.path(target))
    _copy_if_changed(DEV_PAIRS.path(ws), DEV_PAIRS.path(round_ws))
    TRAIN_PAIRS.write(mine_ws, _mining_pairs(ws, pairs, config))
    mine(mine_ws, config.mining.model_copy(update={"model": current}))

    negatives, neg_counts = {}, {"candidates": 0, "kept": 0, "removed": 0}
    if config.skip_above_negatives and any(p.skipped_above for p in pairs):
        negatives, neg_counts = filter_negatives(pairs, _scorer(current)(texts), config.mining)
    rows, row_counts = _training_rows(mine_ws, pairs, negatives, texts, config)
    TRAIN_TRIPLETS.write(round_ws, rows)
    _copy_if_changed(TRAIN_PAIRS.path(mine_ws), TRAIN_PAIRS.path(round_ws))
    result = train_stage(round_ws, current, config.train, triplets=True)
    if result is not None:
        console.print(f"trained {result.steps} steps on {result.train_rows:,} rows in {result.seconds:.0f}s")
    candidate = str(trained_model_dir(round_ws))

    docs = chunk_documents(chunks)
    chunk_docs = {c.id: c.doc_ids for c in chunks}
    cache = default_cache_dir(ws.root)
    metric = config.gate.metric
    comparisons: dict[str, Comparison | None] = {}
    golden = _golden(ws, docs, chunk_docs)
    comparisons["golden"] = compare_models(current, candidate, golden, metric, cache) if golden else None
    held = feedback_heldout(held_records, docs, propensity, floor, clip=config.clip, min_dwell_s=config.min_dwell_s)
    enough = len(held.queries) >= config.gate.min_feedback_queries
    comparisons["feedback"] = compare_models(current, candidate, held, metric, cache) if enough else None
    promoted, reasons = gate(comparisons, config.gate)

    record = RoundRecord(
        round=n, started_at=started.isoformat(), finished_at=now().isoformat(), feedback=str(feedback),
        feedback_sha256=sha256_file(feedback), workspace=round_ws.root.name, current_model=current,
        candidate_model=candidate, promoted=promoted, reasons=reasons,
        searches={"train": len(train_records), "holdout": len(held_records),
                  "ignored": len(records) - len(train_records) - len(held_records),
                  "holdout_queries": len(held.queries)},
        propensity=propensity.to_json(),
        pairs={"click_pairs": len(pairs), "skipped_above": neg_counts, **row_counts,
               "noise_floor": floor.to_json()},
        metrics={k: v.to_json() if v else None for k, v in comparisons.items()},
        config=config.model_dump(mode="json"),
    )
    history.rounds.append(record)
    if promoted:
        history.current_model = candidate
    elif history.current_model is None:
        history.current_model = current
    save_history(ws, history)
    return RetrainResult(record, propensity, comparisons)
