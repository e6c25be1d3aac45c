"""Does the gate deliver a model at least as good as base, and keep base when training hurts? (issue 22)

Copies a finished workspace of ``benchmarks/teachers.py`` (same chunks, queries, split, mined and taught rows,
base vectors), then runs ``embedtune run`` with the gate on (the run default: merges at alpha 0.5 and 1.0 on the
dev slice, out-of-domain guard on the bundled PubMedQA slice) for:

- ``default``: the run's default recipe;
- ``harmful``: the same with a learning rate 50x the default (1e-3 instead of 2e-5), training meant to hurt.

For each it records what the gate delivered (tuned, merged or base), its explanation, and the delivered model's
NDCG@10 against base on the test queries at every dim (the gate never reads them).

    python benchmarks/gate.py [--dataset scifact] [--source ensemble] [--variants default,harmful]
        [--teachers-work /tmp/embedtune-teachers] [--work /tmp/embedtune-gate] [--transductive]

``--transductive`` (NFCorpus needs it, see ``quality.py``) must match the teachers.py run that made the source.

Writes benchmarks/results/gate.json with the CPU and its capabilities.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console

from embedtune.hardware import capability_record
from embedtune.pipeline import run_pipeline
from quality import DATASETS, _summary
from teachers import _config
from training_variants import copy_workspace

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "gate.json"
VARIANTS = {"default": {}, "harmful": {"learning_rate": 1e-3}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="scifact")
    ap.add_argument("--source", default="ensemble", help="the teachers.py recipe whose workspace to copy")
    ap.add_argument("--variants", default="default,harmful")
    ap.add_argument("--teachers-work", type=Path, default=Path("/tmp/embedtune-teachers"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/embedtune-gate"))
    ap.add_argument("--transductive", action="store_true")
    ap.add_argument("--source-dir", type=Path, help="copy this finished workspace instead (made with --source's recipe)")
    args = ap.parse_args()
    console = Console()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    src = args.source_dir or args.teachers_work / args.dataset / args.source
    if not (src / "manifest.json").exists():
        raise SystemExit(f"{src}: run `python benchmarks/teachers.py --recipes mined,{args.source}` first")
    for name in [v.strip() for v in args.variants.split(",") if v.strip()]:
        ws = args.work / args.dataset / name
        if not ws.exists():
            copy_workspace(src, ws)
        cfg = _config(DATASETS / args.dataset, args.source, args.transductive)
        cfg.gate = type(cfg.gate)(alphas=[0.5, 1.0])  # the run default (teachers.py turns the gate off)
        cfg.train = cfg.train.model_copy(update=VARIANTS[name])
        t0 = time.perf_counter()
        result = run_pipeline(cfg, ws, console)
        gate = result.gate or {}
        results["runs"][f"{args.dataset}/{name}"] = {
            "machine": capability_record(), "settings": VARIANTS[name], "source": args.source,
            "delivered": gate.get("delivered"), "alpha": gate.get("chosen_alpha"), "exit_code": result.exit_code,
            "explanation": gate.get("explanation"), "curve": gate.get("curve"),
            "evaluated": "base vs " + ("the refused tuned model" if result.delivered_base else "the delivered model"),
        } | _summary(result, ws) | {"wall_seconds": round(time.perf_counter() - t0, 1)}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"{name}: delivered {gate.get('delivered')} (exit {result.exit_code})")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
