"""The train stage: mined triplets (or plain pairs) + dev pairs in a workspace -> ``train/model``.

Checkpoints live in ``train/checkpoints`` and carry the hash of the settings that made them, so a rerun after
a kill resumes, while a rerun with other settings starts fresh instead of resuming someone else's run.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

from embedtune.corpus import load_chunks
from embedtune.dataset.dev_slice import build_dev_slice
from embedtune.hashing import fingerprint_paths, sha256_json
from embedtune.models import resolve_model
from embedtune.retrieval.embedding_cache import model_fingerprint
from embedtune.training.config import TrainConfig
from embedtune.training.data import TrainPair, teacher_pairs, triplet_pairs
from embedtune.training.losses import process_rank
from embedtune.training.model_card import model_files, write_model_card
from embedtune.training.train import EvalSplit, TrainResult, train_model
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import (
    CHUNKS,
    DEV_PAIRS,
    TRAIN_DIR,
    TRAIN_PAIRS,
    TRAIN_TEACHER,
    TRAIN_TRIPLETS,
    TRAINED_MODEL,
    Artifact,
)

STAGE = "train"
# Dev evaluation only picks the best checkpoint and runs at every evaluation step: a seeded sample of dev
# queries against their positives plus random distractors keeps it to ~30 s on 2 CPU cores.
MAX_DEV_QUERIES = 200
MAX_DEV_CORPUS = 1_000


def _rows(ws: Workspace, texts: dict[str, str], triplets: bool, distill: bool) -> tuple[list[TrainPair], Artifact]:
    """The training rows and the file they came from: teacher labels, mined triplets, or plain pairs."""
    if distill:
        return teacher_pairs(TRAIN_TEACHER.iter(ws)), TRAIN_TEACHER
    if triplets and TRAIN_TRIPLETS.exists(ws):
        return triplet_pairs(TRAIN_TRIPLETS.iter(ws)), TRAIN_TRIPLETS
    pairs = TRAIN_PAIRS.read(ws)
    return [
        TrainPair(p.query, p.positive_text or texts[c]) for p in pairs for c in p.positive_ids if c in texts
    ], TRAIN_PAIRS


def dev_split(ws: Workspace, texts: dict[str, str], seed: int) -> EvalSplit | None:
    """The dev slice that picks the best checkpoint and that the gate judges on (never the eval split): a seeded
    sample of ``dev_pairs.jsonl`` against the text training saw for each positive, BM25 near misses and random
    fill (:mod:`embedtune.dataset.dev_slice`)."""
    dev = DEV_PAIRS.read(ws) if DEV_PAIRS.exists(ws) else []
    return build_dev_slice(dev, texts, seed=seed, max_queries=MAX_DEV_QUERIES, max_corpus=MAX_DEV_CORPUS)


def trained_model_dir(workspace: Workspace | str | Path) -> Path:
    """Where :func:`train_stage` puts the model of ``workspace``."""
    return TRAINED_MODEL.path(workspace)


def train_stage(
    workspace: Workspace | str | Path,
    base_model: str = "all-MiniLM-L6-v2",
    config: TrainConfig | None = None,
    triplets: bool = True,
    *,
    force: bool = False,
) -> TrainResult | None:
    """Train on the workspace's training data; None when ``train/model`` is already current (unless ``force``).

    Uses mined ``train_triplets.jsonl`` when present and ``triplets`` is on, else ``train_pairs.jsonl`` with
    in-batch negatives only.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    cfg = config or TrainConfig()
    distill = cfg.distill != "none"
    files = [CHUNKS, TRAIN_PAIRS, DEV_PAIRS] + ([TRAIN_TRIPLETS] if triplets else []) + ([TRAIN_TEACHER] if distill else [])
    inputs = fingerprint_paths([f.path(ws) for f in files if f.exists(ws)])
    params = {"base_model": model_fingerprint(resolve_model(base_model)), "config": cfg.model_dump()}
    if not force and ws.is_current(STAGE, inputs, params):
        return None
    chunks = load_chunks(ws)
    texts = {c.id: c.text for c in chunks}
    rows, source = _rows(ws, texts, triplets, distill)
    if cfg.max_rows is not None and len(rows) > cfg.max_rows:
        rows = random.Random(cfg.seed).sample(rows, cfg.max_rows)
    out = TRAIN_DIR.path(ws)

    def train() -> TrainResult:
        return train_model(
            base_model, rows, out, cfg, eval_split=dev_split(ws, texts, cfg.seed),
            negatives_pool=list(texts.values()),
            n_negatives=0 if source is TRAIN_PAIRS
            else max((len(r.negatives) for r in rows), default=0) if distill else cfg.hard_negatives,
        )

    if process_rank() != 0:  # a DDP worker (torchrun): trains its shard, rank 0 records
        return train()
    with ws.lock():  # the checkpoint stamp and its clean-up too, not only the stage record
        return _train_and_record(ws, out, inputs, params, cfg, base_model, source, train)


def _train_and_record(
    ws: Workspace, out: Path, inputs: dict[str, str], params: dict, cfg: TrainConfig, base_model: str, source: Artifact,
    train: Callable[[], TrainResult],
) -> TrainResult:
    # Checkpoints carry the hash of the settings *and inputs* that made them: a resume only ever continues the
    # same run; other settings or changed training data start fresh (issue 20, D1).
    stamp, fingerprint = out / "checkpoints" / "settings.sha256", sha256_json({"params": params, "inputs": inputs})
    if stamp.exists() and stamp.read_text() != fingerprint:
        shutil.rmtree(out / "checkpoints")
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint)
    with ws.stage(STAGE, inputs, params) as run:
        result = train()
        if result.steps == 0:  # never hand back the untrained base model as "tuned" (issue 20, D6)
            from embedtune.errors import EmbedtuneError

            raise EmbedtuneError(f"training ran 0 steps on {result.train_rows:,} rows (batch {cfg.batch_size}): "
                                 "nothing was trained, so there is no tuned model")
        write_model_card(
            result.model_dir, str(base_model), cfg,
            {"training rows": result.train_rows, "from": source.relpath, "hard negatives per row": cfg.hard_negatives,
             "steps": result.steps, "train seconds": result.seconds},
            result.dims,
        )
        for f in model_files(result.model_dir):  # the card is rewritten with the eval results later
            run.add_output(str(f.relative_to(ws.root)))
        run.record.summary = {"rows": result.train_rows, "steps": result.steps, "seconds": result.seconds,
                              "best_dev_ndcg@10": result.best_metric}
    return result
