"""The gate end to end: merge base and tuned over a grid of alphas, score each on dev and out of domain, decide.

Runs after training, before the final evaluation on the eval split (which it never reads). The merges exist
in memory only (one working copy of the model, weights swapped per alpha); only the delivered merge is
written, to ``out_dir/merged`` (``gate.keep_grid`` writes every one). ``out_dir/gate.json`` records the result.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embedtune.gate.config import GateConfig
from embedtune.gate.merge import interpolate_state_dicts
from embedtune.gate.ood import load_ood_slice
from embedtune.gate.scoring import RetrievalSlice, score_slice
from embedtune.gate.verdict import DELIVERED_EXIT_CODE, DevCeiling, GateResult, decide
from embedtune.workspace.artifacts import GATE_RESULT

MERGED_DIR = "merged"
RESULT_FILE = GATE_RESULT.name  # in a workspace, run_gate's out_dir is GATE_DIR


def _save(model: Any, path: Path) -> None:
    # Written beside, then renamed: an interrupted save never leaves a half model where the pipeline looks.
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def run_gate(
    base_model: str | Path,
    tuned_dir: str | Path,
    dev_split: Any | None,
    dims: Sequence[int],
    config: GateConfig | None = None,
    out_dir: str | Path = "gate",
) -> GateResult:
    """Decide what a run delivers: tuned, a base<->tuned merge, or base (see :mod:`embedtune.gate.verdict`).

    Args:
        base_model: the model training started from (registry name or folder).
        tuned_dir: the trained model's folder.
        dev_split: the dev slice, an :class:`~embedtune.training.train.EvalSplit` (``queries``, ``corpus``,
            ``relevant``; what ``training.stage.dev_split`` builds) or a :class:`RetrievalSlice`; never the
            eval split. None: no dev slice (the ceiling fallback decides).
        dims: Matryoshka dims to judge (each must be at most the model's size).
        out_dir: where the delivered merge and ``gate.json`` go.

    Returns:
        The :class:`GateResult`, with ``delivered_model`` set to the folder (or base's registry name) to use.

    Example::

        from embedtune.gate import GateConfig, run_gate

        result = run_gate("all-MiniLM-L6-v2", "embedtune-runs/default/train/model", dev, [384, 192, 96],
                          GateConfig(), "embedtune-runs/default/gate")
        print(*result.explanation, sep="\\n")
        raise SystemExit(result.exit_code)
    """
    from embedtune.models.loading import load_embedder
    from embedtune.models.registry import resolve_model

    cfg = config or GateConfig()
    dims = sorted(set(dims), reverse=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not cfg.enabled:
        result = GateResult("tuned", 1.0, False, DELIVERED_EXIT_CODE, dims, {}, [], [], None,
                            delivered_model=str(tuned_dir),
                            explanation=["gate disabled: delivering the tuned model unchecked"])
        (out / RESULT_FILE).write_text(json.dumps(result.to_json(), indent=2))
        return result

    base = load_embedder(base_model, inference="torch")  # merges are plain torch weights: score all alike
    tuned = load_embedder(tuned_dir, inference="torch")
    dev = dev_split
    if dev is not None and not isinstance(dev, RetrievalSlice):
        dev = RetrievalSlice.from_eval_split(dev)
    dev = dev if dev is not None and dev.queries and dev.qrels else None
    ood = load_ood_slice(cfg.ood_dataset, cfg.ood_max_queries, cfg.ood_max_docs, cfg.seed) if cfg.ood else None

    def scores(model: Any, data: RetrievalSlice | None) -> dict[int, dict[str, float]] | None:
        return score_slice(model, data, dims, cfg.batch_size) if data is not None else None

    base_dev, base_ood = scores(base, dev), scores(base, ood)
    alphas = set(cfg.alphas)
    if cfg.ceiling_fallback == "merge":
        alphas.add(cfg.fallback_alpha)
    if base_dev is None or not DevCeiling.of(base_dev, cfg.ceiling).can_discriminate:
        # Dev cannot choose: only the fallback merge can be delivered; tuned is scored for the report.
        alphas = {a for a in alphas if a in (cfg.fallback_alpha, 1.0)}

    base_state = base.state_dict()
    work = copy.deepcopy(tuned)

    def candidate(alpha: float) -> Any:
        if alpha == 1.0:
            return tuned
        work.load_state_dict(interpolate_state_dicts(base_state, tuned.state_dict(), alpha))
        return work

    cand_dev: dict[float, Any] = {}
    for alpha in sorted(alphas):
        model = candidate(alpha)
        if cfg.keep_grid and alpha != 1.0:
            _save(model, out / f"merged-alpha{alpha:g}")
        cand_dev[alpha] = scores(model, dev) or {d: {} for d in dims}
    cand_ood: dict[float, Any] = {}
    if ood is not None:
        # Out of domain: tuned always (the report shows what training cost), merges only if dev has not
        # already refused them, which saves their encoding.
        on_dev = decide(base_dev, cand_dev, cfg)
        for c in on_dev.candidates:
            if c.passes or c.alpha == 1.0:
                cand_ood[c.alpha] = scores(candidate(c.alpha), ood)

    result = decide(base_dev, cand_dev, cfg, base_ood=base_ood, candidates_ood=cand_ood or None,
                    ood_name=ood.name if ood else None)
    if result.delivered == "merged":
        assert result.chosen_alpha is not None
        _save(candidate(result.chosen_alpha), out / MERGED_DIR)
        result.delivered_model = str(out / MERGED_DIR)
    elif result.delivered == "tuned":
        result.delivered_model = str(tuned_dir)
    else:
        result.delivered_model = str(resolve_model(base_model))
    result.explanation.append(f"delivered model: {result.delivered_model}")
    (out / RESULT_FILE).write_text(json.dumps(result.to_json(), indent=2))
    return result
