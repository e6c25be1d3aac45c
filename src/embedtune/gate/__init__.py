"""Never hand back a worse model: base<->tuned merging, an out-of-domain guard, and a per-dim regression gate.

After training, :func:`run_gate` interpolates the weights of the base and the tuned model over a grid of
alphas (WiSE-FT / LM-Cocktail, :mod:`~embedtune.gate.merge`), scores base and every merge on the dev slice at
every Matryoshka dim and on an out-of-domain slice (:mod:`~embedtune.gate.ood`), and decides what the run
delivers: the tuned model, a merge, or the base model when nothing beats it, with an exit code that tells
scripts (:mod:`~embedtune.gate.verdict`). Settings are the ``gate:`` section of the run config
(:class:`GateConfig`).

Example::

    from embedtune.gate import GateConfig, merge_models, run_gate

    merge_models("all-MiniLM-L6-v2", "embedtune-runs/default/train/model", 0.5, "merged-0.5")
    result = run_gate("all-MiniLM-L6-v2", "embedtune-runs/default/train/model", dev_split, [384, 192, 96],
                      GateConfig(), "embedtune-runs/default/gate")
    print(result.delivered, result.delivered_model, result.exit_code)
"""

from embedtune.gate.config import GateConfig
from embedtune.gate.merge import interpolate_state_dicts, merge_models
from embedtune.gate.ood import bundled_ood_dir, load_ood_slice
from embedtune.gate.run import run_gate
from embedtune.gate.scoring import RetrievalSlice, score_slice
from embedtune.gate.verdict import (
    DELIVERED_EXIT_CODE,
    KEPT_BASE_EXIT_CODE,
    NOTHING_BEATS_BASE,
    GateResult,
    decide,
)

__all__ = [
    "DELIVERED_EXIT_CODE",
    "KEPT_BASE_EXIT_CODE",
    "NOTHING_BEATS_BASE",
    "GateConfig",
    "GateResult",
    "RetrievalSlice",
    "bundled_ood_dir",
    "decide",
    "interpolate_state_dicts",
    "load_ood_slice",
    "merge_models",
    "run_gate",
    "score_slice",
]
