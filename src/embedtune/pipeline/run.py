"""``embedtune run``: ingest -> generate -> split -> baseline -> mine -> teach -> train (-> again) -> gate -> evaluate.

Every stage has one shape (:mod:`embedtune.pipeline.stages`), records itself in the workspace manifest and does
nothing when its output is current, so an interrupted run picks up at the stage it was in (and inside it, where
that stage supports it) and a rerun of a finished run does no stage work. Round 2 and later live in
``round-<n>/`` sub-workspaces that share the chunks and the split, so that mining with the round-1 model never
invalidates round 1's outputs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from embedtune.evaluation.model_comparison import ModelComparison
from embedtune.hashing import fingerprint_paths
from embedtune.pipeline import stages
from embedtune.pipeline.config import RunConfig
from embedtune.pipeline.evaluate_stage import report_dims
from embedtune.progress import make_console
from embedtune.retrieval.runner import Runner
from embedtune.training.stage import trained_model_dir
from embedtune.workspace import StageResult, Workspace
from embedtune.workspace.artifacts import CHUNKS, DEV_PAIRS, EVAL_REPORT, PIPELINE_ROUNDS, REPORT_HTML, TIMINGS, TRAIN_PAIRS

SHARED_FILES = (CHUNKS, TRAIN_PAIRS, DEV_PAIRS)  # what every round's sub-workspace starts from


@dataclass
class PipelineResult:
    """What a run produced. ``model_dir`` is the delivered model's folder (the trained one when the gate kept base,
    with ``delivered_base`` set: then deliver the base model). ``stages`` holds every stage's result by the name
    the run showed it under (``mine (round 2)``, ...); ``comparison`` is None when the evaluation was current
    (a rerun), and ``eval_report`` (``eval_report.json``) always holds its numbers."""

    model_dir: Path
    comparison: ModelComparison | None
    report_html: Path
    seconds: dict[str, float] = field(default_factory=dict)
    gate: dict | None = None
    delivered_base: bool = False
    stages: dict[str, StageResult] = field(default_factory=dict)
    eval_report: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 when a tuned (or merged) model is delivered, 3 when the gate kept the base model."""
        return int(self.gate["exit_code"]) if self.gate else 0


def _round_workspace(ws: Workspace, n: int) -> Workspace:
    """``round-<n>/`` with copies of the shared inputs (copied only when changed, so stages stay current)."""
    sub = Workspace(PIPELINE_ROUNDS.path(ws, n))
    for artifact in SHARED_FILES:
        src, dst = artifact.path(ws), artifact.path(sub)
        if src.exists() and (not dst.exists() or fingerprint_paths([src])[str(src)] != fingerprint_paths([dst])[str(dst)]):
            shutil.copyfile(src, dst)
    return sub


def run_pipeline(config: RunConfig, workspace: str | Path, console: Console | None = None, *,
                 ray_address: str | None = None) -> PipelineResult:
    """Run every stage on ``config`` in ``workspace`` and return the delivered model and its comparison.

    Encoding runs with ``config.inference`` (training excepted: always torch), on the Ray cluster at
    ``ray_address`` when given. The workspace is locked for the whole run: a second process on it is refused at
    once, naming this one.
    """
    ws = Workspace(workspace)
    runner = Runner.configure(config.inference, ray_address)  # "auto" -> this CPU's backend, by its real name
    with ws.lock():
        return _run_locked(config, ws, runner, console or make_console())


def _run_locked(config: RunConfig, ws: Workspace, runner: Runner, console: Console) -> PipelineResult:
    _check_dims(config)
    done: dict[str, StageResult] = {
        "ingest": stages.ingest(ws, config, console=console),
        "generate": stages.generate(ws, config, runner=runner, console=console),
        "split": stages.split(ws, config, console=console),
        "baseline": stages.baseline(ws, config, runner=runner, console=console),
    }
    model_dir: Path | None = None
    for n in range(1, config.rounds + 1):
        round_ws = ws if n == 1 else _round_workspace(ws, n)
        miner = config.base_model if model_dir is None else str(model_dir)  # later rounds mine with the last model
        if config.mine:
            done[f"mine (round {n})"] = stages.mine(round_ws, config, model=miner, round=n, runner=runner,
                                                    console=console)
        if config.teaching():
            done[f"teach (round {n})"] = stages.teach(round_ws, config, round=n, runner=runner, console=console)
        done[f"train (round {n})"] = stages.train(round_ws, config, round=n, console=console)
        model_dir = trained_model_dir(round_ws)
    assert model_dir is not None

    dims = report_dims(config)
    gate = None
    if config.gate.enabled:
        done["gate"] = stages.gate(ws, config, model_dir=model_dir, dims=dims, console=console)
        gate = done["gate"].value
    kept_base = gate is not None and gate["delivered"] == "base"
    # Base against what is delivered; when the gate keeps base, against the refused model, to show why.
    candidate = Path(gate["delivered_model"]) if gate is not None and not kept_base else model_dir
    done["evaluate"] = stages.evaluate(ws, config, model_dir=candidate, dims=dims, gate=gate, runner=runner,
                                       console=console)

    timings = {name: result.seconds or 0.0 for name, result in done.items()}
    TIMINGS.write(ws, timings)
    shown = f"{config.base_model} (the base model: nothing beat it)" if kept_base else candidate
    console.print(f"delivered model: [bold]{shown}[/]   report: [bold]{REPORT_HTML.path(ws)}[/]")
    return PipelineResult(candidate, done["evaluate"].value, REPORT_HTML.path(ws), timings, gate,
                          delivered_base=kept_base, stages=done, eval_report=EVAL_REPORT.read(ws))


def _check_dims(config: RunConfig) -> None:
    """Matryoshka dims larger than the base model's, before any stage runs (known for registry models)."""
    from embedtune.models.registry import registry_spec

    spec = registry_spec(config.base_model)
    if spec is not None and spec.dim:
        config.train.resolved_dims(spec.dim)
