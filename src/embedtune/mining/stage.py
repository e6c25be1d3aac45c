"""The ``mine`` stage: hard negatives for every (query, positive chunk) pair of the training split.

Inputs: ``chunks.jsonl`` and ``train_pairs.jsonl`` of a workspace, or a BEIR folder's queries and qrels (the
corpus documents are the candidates; :mod:`embedtune.mining.inputs`). The algorithm is
:func:`~embedtune.mining.negatives.mine_negatives`. Outputs: ``train_triplets.jsonl`` (one
:class:`~embedtune.workspace.rows.Triplet` per pair), ``mining_report.json`` and ``mining_report.html``.
Iterative rounds work by passing a trained model's folder as the mining model: the embedding cache keys on the
model's content, so a new model re-encodes and a rerun with the same model and inputs is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from embedtune.mining.config import MiningConfig
from embedtune.mining.inputs import input_hashes, load_inputs
from embedtune.mining.negatives import mine_negatives
from embedtune.mining.report import MiningReport, mining_html
from embedtune.progress import console
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import MINING_REPORT, MINING_REPORT_HTML, TRAIN_TRIPLETS

if TYPE_CHECKING:
    from embedtune.retrieval.runner import Runner
    from embedtune.training.data import TrainPair

STAGE = "mine"
FORMAT = 1  # bump when the triplet rows change, so existing outputs are recomputed


@dataclass
class MiningResult:
    """What :func:`mine` wrote (or found current) in the workspace."""

    report: MiningReport
    triplets_path: Path
    report_path: Path
    html_path: Path


def mine(
    workspace: str | Path | Workspace,
    config: MiningConfig = MiningConfig(),
    *,
    dataset: str | Path | None = None,
    split: str = "train",
    force: bool = False,
    runner: Runner | None = None,
) -> MiningResult:
    """Run the ``mine`` stage: write ``train_triplets.jsonl``, ``mining_report.json`` and ``mining_report.html``.

    Args:
        workspace: the run folder (inputs ``chunks.jsonl`` and ``train_pairs.jsonl`` unless ``dataset``).
        config: mining settings.
        dataset: a BEIR folder instead: its ``split`` queries and qrels, its corpus as candidates.
        split: qrels split of ``dataset``.
        force: mine even when the stage is current (same inputs, settings and model content).
        runner: where encoding runs (a Ray cluster, or this process: the default). The backend models load with
            is ``config.inference``.

    A rerun with the same inputs, settings and model (by content) returns the existing report (``reused``).
    """
    from embedtune.retrieval.embedding_cache import default_cache_dir, model_fingerprint

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    dataset = Path(dataset) if dataset is not None else None
    inputs = input_hashes(ws, dataset, split)
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
    paths = TRAIN_TRIPLETS.path(ws), MINING_REPORT.path(ws), MINING_REPORT_HTML.path(ws)
    if not force and ws.is_current(STAGE, inputs, params) and MINING_REPORT.exists(ws):
        console.print(f"mine is current, skipping ({paths[0]})", highlight=False)
        return MiningResult(MINING_REPORT.read_model(ws, MiningReport).model_copy(update={"reused": True}), *paths)
    queries, docs, source, warnings = load_inputs(ws, dataset, split)
    with ws.stage(STAGE, inputs, params) as run:
        mined = mine_negatives(queries, docs, config, model_hash=model_hash, cache_dir=default_cache_dir(ws.root),
                               source=source, warnings=warnings, runner=runner)
        TRAIN_TRIPLETS.write(run, mined.triplet_rows())
        MINING_REPORT.write(run, mined.report)
        mining_html(mined.report).save(MINING_REPORT_HTML.target(run))
        r = mined.report
        run.record.summary = {"rows": r.rows, "negatives": r.negatives, "rows_short": r.rows_short,
                              "threshold": r.calibration.explanation}
    return MiningResult(mined.report, *paths)


def load_triplets(path: str | Path, include_relabelled: bool = True) -> list[TrainPair]:
    """The stage's output as training rows: :func:`embedtune.training.data.load_triplets`, which owns that rule.

    Imported on use: the training package loads sentence-transformers, which BM25 mining never needs.
    """
    from embedtune.training.data import load_triplets as training_rows

    return training_rows(path, include_relabelled)
