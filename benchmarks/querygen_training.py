"""Which source of synthetic queries trains a better model? NDCG@10 on real test queries, one source at a time.

The second half of the query-generation benchmark (the first, ``querygen.py``, measures how specific each
source is). For each offline signal alone, `embedtune run` trains all-MiniLM-L6-v2 with its default recipe
(filtered queries, mined hard negatives, MatryoshkaLoss(MNRL), same row budget) on the bundled SciFact sample
(1,500 abstracts; the documents judged for the 300 test claims are kept out of training) and is scored on the
300 real test claims, base vs tuned at every dim with a paired randomisation test. ``--sources all`` adds the
default mix of every signal. Workspaces share ingest and base-model vectors, so only generate/split/mine/train/
evaluate run per source.

Run: python benchmarks/querygen_training.py [--sources title,inverse_cloze,keyphrase,all] [--work DIR]
Writes benchmarks/results/querygen_training.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from rich.console import Console

from embedtune.pipeline import RunConfig, run_pipeline

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "querygen_training.json"
SHARED = ("chunks.jsonl", "ingest_report.json", "cache")


def configure(source: str) -> RunConfig:
    cfg = RunConfig()
    update = {"backend": "none"} | ({} if source == "all" else {"signals": [source]})
    cfg.generate = cfg.generate.model_copy(update=update)
    return cfg


def _seed_from(first: Path, ws: Path) -> None:
    """Copy the first workspace's chunks and embedding cache: same corpus, no re-ingest or re-encode."""
    ws.mkdir(parents=True, exist_ok=True)
    for name in SHARED:
        src, dst = first / name, ws / name
        if src.exists() and not dst.exists():
            (shutil.copytree if src.is_dir() else shutil.copyfile)(src, dst)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sources", default="title,inverse_cloze,keyphrase,all")
    ap.add_argument("--work", type=Path, default=Path("/tmp/embedtune-querygen-training"))
    args = ap.parse_args()
    console = Console()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    sources = args.sources.split(",")
    for source in sources:
        ws = args.work / source
        _seed_from(args.work / sources[0], ws)
        t0 = time.perf_counter()
        result = run_pipeline(configure(source), ws, console)
        split = json.loads((ws / "split_report.json").read_text())
        train = json.loads((ws / "manifest.json").read_text())["stages"]["train"]["summary"]
        results[source] = {
            "train_queries": split["train_queries"], "train_rows": train["rows"], "steps": train["steps"],
            "per_dim": result.eval_report["tuned_vs_base"], "stage_seconds": result.seconds,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print("| training queries | train queries | dim | base | tuned | delta | p |\n|---|---|---|---|---|---|---|")
    for source, r in results.items():
        for row in r["per_dim"]:
            print(f"| {source} | {r['train_queries']:,} | {row['dim']} | {row['base ndcg@10']:.4f} "
                  f"| {row['tuned ndcg@10']:.4f} | {row['delta']:+.4f} | {row['p-value']:.3g} |")


if __name__ == "__main__":
    main()
