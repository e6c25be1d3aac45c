"""The ``gate`` stage of ``embedtune run``: after training, decide what the run delivers (issue 22).

Wraps :func:`embedtune.gate.run_gate` as a recorded, skip-when-current stage: inputs are the trained model's
files and the dev slice, outputs ``gate/gate.json`` and the delivered merge (``gate/merged``) when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedtune.gate import GateConfig, run_gate
from embedtune.hashing import fingerprint_paths
from embedtune.models import resolve_model
from embedtune.retrieval.embedding_cache import model_fingerprint
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import CHUNKS, DEV_PAIRS, GATE_DIR, GATE_RESULT

STAGE = "gate"
# Bumped when the dev slice is built differently, so a finished run's gate is judged again on the new slice.
DEV_SLICE_VERSION = 2  # 2: positives as training saw them, BM25 near misses (embedtune.dataset.dev_slice)


def gate_stage(ws: Workspace, config: GateConfig, base: str, tuned_dir: Path, dims: list[int], seed: int) -> dict[str, Any]:
    """``gate.json`` of a current or new gate run; ``delivered_model`` is the folder (or base's) to use."""
    from embedtune.corpus import load_chunks
    from embedtune.training.stage import dev_split

    files = [f for f in sorted(tuned_dir.rglob("*")) if f.is_file() and f.name != "README.md"]
    inputs = fingerprint_paths([*files, DEV_PAIRS.path(ws), CHUNKS.path(ws)])
    params = {"gate": config.model_dump(mode="json"), "base": model_fingerprint(resolve_model(base)), "dims": dims,
              "seed": seed, "dev_slice": DEV_SLICE_VERSION}
    if ws.is_current(STAGE, inputs, params) and GATE_RESULT.exists(ws):
        return GATE_RESULT.read(ws)
    with ws.stage(STAGE, inputs, params) as run:
        texts = {c.id: c.text for c in load_chunks(ws)}
        result = run_gate(base, tuned_dir, dev_split(ws, texts, seed), dims, config, GATE_DIR.path(ws))
        for f in sorted(GATE_DIR.path(ws).rglob("*")):
            if f.is_file() and f.name != "README.md":  # a delivered merge's card is rewritten with the eval results
                run.add_output(str(f.relative_to(ws.root)))
        run.record.summary = {"delivered": result.delivered, "alpha": result.chosen_alpha, "exit_code": result.exit_code}
        return result.to_json()
