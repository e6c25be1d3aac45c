"""The ``gate`` stage of ``embedtune run``: after training, decide what the run delivers (issue 22).

Wraps :func:`embedtune.gate.run_gate` as a recorded, skip-when-current stage: inputs are the trained model's
files and the dev slice, outputs ``gate/gate.json`` and the delivered merge (``gate/merged``) when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from embedtune.gate import run_gate
from embedtune.hashing import fingerprint_paths
from embedtune.models import resolve_model
from embedtune.pipeline.config import RunConfig
from embedtune.progress import make_console
from embedtune.retrieval.embedding_cache import model_fingerprint
from embedtune.training.model_card import model_files
from embedtune.workspace import StageResult, Workspace
from embedtune.workspace.artifacts import CHUNKS, DEV_PAIRS, GATE_DIR, GATE_RESULT

STAGE = "gate"
# Bumped when the dev slice is built differently, so a finished run's gate is judged again on the new slice.
DEV_SLICE_VERSION = 2  # 2: positives as training saw them, BM25 near misses (embedtune.dataset.dev_slice)


def gate(ws: Workspace, config: RunConfig, *, model_dir: Path, dims: list[int], force: bool = False,
         console: Console | None = None) -> StageResult[dict[str, Any]]:
    """Judge ``model_dir`` against the base model on the dev slice; ``value`` is ``gate.json`` (current or new),
    whose ``delivered_model`` is the folder (or base's name) to use."""
    from embedtune.corpus import load_chunks
    from embedtune.training.stage import dev_split

    console = console or make_console()
    console.rule("[bold]gate")
    seed = config.train.seed
    inputs = fingerprint_paths([*model_files(model_dir), DEV_PAIRS.path(ws), CHUNKS.path(ws)])
    params = {"gate": config.gate.model_dump(mode="json"), "base": model_fingerprint(resolve_model(config.base_model)),
              "dims": dims, "seed": seed, "dev_slice": DEV_SLICE_VERSION}
    if not force and ws.is_current(STAGE, inputs, params) and GATE_RESULT.exists(ws):
        result, reused = GATE_RESULT.read(ws), True
    else:
        with ws.stage(STAGE, inputs, params) as run:
            texts = {c.id: c.text for c in load_chunks(ws)}
            verdict = run_gate(config.base_model, model_dir, dev_split(ws, texts, seed), dims, config.gate,
                               GATE_DIR.path(ws))
            for f in model_files(GATE_DIR.path(ws)):  # a delivered merge's card is rewritten with the eval results
                run.add_output(str(f.relative_to(ws.root)))
            run.record.summary = {"delivered": verdict.delivered, "alpha": verdict.chosen_alpha,
                                  "exit_code": verdict.exit_code}
            result, reused = verdict.to_json(), False
    console.rule("[bold]gate: what this run delivers")
    for line in result.get("explanation", []):
        console.print(line, highlight=False)
    return StageResult.recorded(ws, STAGE, result, reused=reused)
