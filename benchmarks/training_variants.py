"""Which training settings move SciFact NDCG@10 at each Matryoshka dim? Variants of embedtune's default recipe.

Each variant copies the workspace of ``benchmarks/quality.py`` (run that first; SciFact, generated queries,
embedtune recipe), shares its embedding cache, overrides training settings and reruns the pipeline: the
stages before training are current and skipped (split and mining rerun only where an override needs it), then
train and evaluate on the 300 test claims against the same base vectors. Variants:

- ``bf16-4096``: 4x the rows (4,096, 128 steps) under bf16 autocast (1.5x faster steps on AMX CPUs);
- ``no-hard-negatives``: filtered queries, in-batch negatives only (no mining);
- ``full-dim-negatives``: mined negatives scored at the full dim only (``matryoshka_negatives: full-dim``);
- ``self-distill``: smaller dims train on in-batch negatives plus the full dim's ranking of every candidate
  (``matryoshka_negatives: self-distill``, ``SelfDistillMatryoshkaLoss``);
- ``transductive`` / ``plain-transductive``: embedtune's / the plain recipe with the test-judged abstracts kept
  in training (``split.exclude_eval_docs: false``): queries generated from every abstract, none from a test claim,
  as GPL and the ST reference recipes train;
- ``human-2-epochs`` / ``plain-human-2-epochs``: SciFact's own training claims (the quality run's ``human``
  workspaces), two epochs as in the ST reference recipes instead of one (536 rows = 17 steps per epoch);
  ``human-2-epochs-self-distill``: the same with ``matryoshka_negatives: self-distill``; ``human-3-epochs``:
  three epochs (the top of the field's 1-3).

    python benchmarks/training_variants.py [--variants bf16-4096,no-hard-negatives,full-dim-negatives]
        [--quality-work /tmp/embedtune-quality] [--work /tmp/embedtune-variants]

Writes benchmarks/results/training_variants.json (merged per variant). Workspaces resume: a rerun skips the
stages whose inputs and settings are unchanged.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from rich.console import Console

from embedtune.pipeline import run_pipeline
from quality import DATASETS, _summary, configure

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "training_variants.json"
VARIANTS: dict[str, dict] = {
    "bf16-4096": {"train": {"bf16": True, "max_rows": 4096}},
    "no-hard-negatives": {"mine": False, "train": {"hard_negatives": 0}},
    "full-dim-negatives": {"train": {"matryoshka_negatives": "full-dim"}},
    "self-distill": {"train": {"matryoshka_negatives": "self-distill"}},
    "transductive": {"split": {"exclude_eval_docs": False}},
    "plain-transductive": {"recipe": "plain", "split": {"exclude_eval_docs": False}},
    "human-2-epochs": {"signal": "human", "train": {"epochs": 2.0}},
    "plain-human-2-epochs": {"signal": "human", "recipe": "plain", "train": {"epochs": 2.0}},
    "human-3-epochs": {"signal": "human", "train": {"epochs": 3.0}},
    "human-2-epochs-self-distill": {"signal": "human",
                                    "train": {"epochs": 2.0, "matryoshka_negatives": "self-distill"}},
}
SKIP = ("train", "eval_report.json", "report.html", "timings.json")


def copy_workspace(src: Path, dst: Path) -> None:
    """A copy of ``src`` without its training outputs; the embedding cache is shared, not copied."""
    dst.mkdir(parents=True)
    for p in src.iterdir():
        if p.name in SKIP:
            continue
        if p.name == "cache":
            (dst / "cache").symlink_to(p.resolve())
        elif p.is_dir():
            shutil.copytree(p, dst / p.name)
        else:
            shutil.copy2(p, dst / p.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--quality-work", type=Path, default=Path("/tmp/embedtune-quality"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/embedtune-variants"))
    args = ap.parse_args()
    dataset = DATASETS / "scifact"
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"variants": {}}
    console = Console()
    for name in [v.strip() for v in args.variants.split(",") if v.strip()]:
        spec = VARIANTS[name]
        recipe, signal = spec.get("recipe", "embedtune"), spec.get("signal", "generated")
        src = args.quality_work / "scifact" / signal / recipe
        if not (src / "manifest.json").exists():
            raise SystemExit(f"{src}: no quality workspace; run `python benchmarks/quality.py --datasets scifact "
                             f"--signals {signal}` first")
        ws = args.work / name
        if not ws.exists():
            copy_workspace(src, ws)
        cfg = configure(dataset, signal, recipe)
        for section, value in spec.items():
            if isinstance(value, dict):  # a stage's settings: override only the named fields
                setattr(cfg, section, getattr(cfg, section).model_copy(update=value))
            elif section not in ("recipe", "signal"):
                setattr(cfg, section, value)
        t0 = time.perf_counter()
        result = run_pipeline(cfg, ws, console)
        results["variants"][name] = {"settings": spec} | _summary(result, ws) | {
            "wall_seconds": round(time.perf_counter() - t0, 1)}
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    for name, r in results["variants"].items():
        cells = ", ".join(f"@{row['dim']} {row['delta']:+.4f} (p {row['p-value']:.2g})" for row in r["per_dim"])
        console.print(f"{name}: {cells}")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
