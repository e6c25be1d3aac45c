"""Reproduce published baselines with ``embedtune eval``: BM25, all-MiniLM-L6-v2 at 384/256/128/64 dims, hybrid.

Runs the CLI exactly as a user would (one subprocess per command, so the recorded commands are the real ones)
on SciFact and NFCorpus test splits from ../shared/datasets, then writes benchmarks/results/baselines.json with
every system's metrics, the commands, wall times and library versions, and prints a Markdown table for
docs/benchmarks.md. Corpus embeddings are cached (in ~/.cache/embedtune/embeddings), so a rerun only re-scores.

    python benchmarks/baselines.py [--datasets scifact,nfcorpus]

Published references: BEIR paper BM25 (Thakur et al. 2021; Pyserini "multifield" reproduces it) SciFact 0.665,
NFCorpus 0.325 NDCG@10; all-MiniLM-L6-v2 on the MTEB leaderboard SciFact 0.645 (../shared/reference: 0.6451 @384,
0.6016 @128, 0.4841 @64).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from embedtune.workspace import write_json

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "baselines.json"
PUBLISHED = {
    "scifact": {"bm25": 0.665, "dense:all-MiniLM-L6-v2@384": 0.645},
    "nfcorpus": {"bm25": 0.325},
}
TABLE_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def run(cmd: list[str]) -> float:
    """Run one command, streaming its output; returns wall seconds; a failure stops the benchmark."""
    print("$", shlex.join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="scifact,nfcorpus")
    args = parser.parse_args()

    exe = [str(Path(sys.executable).parent / "embedtune")]  # the venv's console script
    results: dict[str, dict] = {}
    commands: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            data = SHARED / name
            main_json, flat_json = Path(tmp) / f"{name}.json", Path(tmp) / f"{name}-flat.json"
            main_cmd = ["embedtune", "eval", "--dataset", str(data), "--split", "test", "--model", "all-MiniLM-L6-v2",
                        "--bm25", "--hybrid", "--dims", "384,256,128,64", "--json", str(main_json)]
            flat_cmd = ["embedtune", "eval", "--dataset", str(data), "--split", "test", "--no-dense", "--bm25",
                        "--bm25-fields", "flat", "--json", str(flat_json)]
            seconds = run(exe + main_cmd[1:])
            seconds_flat = run(exe + flat_cmd[1:])
            commands += [shlex.join(main_cmd), shlex.join(flat_cmd)]
            out = json.loads(main_json.read_text())
            flat = json.loads(flat_json.read_text())
            out["runs"]["bm25-flat"] = flat["runs"]["bm25"]
            out["seconds"]["bm25-flat"] = flat["seconds"]["bm25"]
            out["wall_seconds"] = {"eval": round(seconds, 1), "bm25-flat": round(seconds_flat, 1)}
            out["published_ndcg@10"] = PUBLISHED.get(name, {})
            results[name] = out

    doc = {
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "packages": {p: metadata.version(p) for p in
                         ("embedtune", "torch", "sentence-transformers", "bm25s", "PyStemmer", "pytrec-eval-terrier")},
        },
        "commands": commands,
        "results": results,
    }
    write_json(RESULTS, doc)
    print(f"wrote {RESULTS}\n")
    print("| dataset | system | " + " | ".join(TABLE_METRICS) + " | published NDCG@10 |")
    print("|---|---|" + "---|" * (len(TABLE_METRICS) + 1))
    for name, out in results.items():
        for system, means in out["runs"].items():
            ref = out["published_ndcg@10"].get(system, "")
            print(f"| {name} | {system} | " + " | ".join(f"{means[m]:.4f}" for m in TABLE_METRICS) + f" | {ref} |")


if __name__ == "__main__":
    main()
