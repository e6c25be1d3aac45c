"""Wall time of `embedtune run` on the bundled sample, stage by stage, with fp32 encoding and with each faster backend.

Each backend gets a fresh workspace and an empty embedding cache, so every stage that encodes (baseline, mining,
evaluation) pays for it; the SmolLM2 answers are copied from the first run (the LLM does not depend on the
encoding backend), and speed-ups compare the stages after ``generate``. Runs are interleaved, ``--runs`` per
backend, and the medians reported; the tuned model's NDCG@10 at each dim shows what each backend's numbers
would tell a user.

    python benchmarks/pipeline_time.py [--backends torch,torch-bf16] [--runs 1] [--work /tmp/embedtune-pipeline-time]

Writes benchmarks/results/pipeline_time.json. Needs idle cores: anything else running skews the ratios.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import time
from pathlib import Path

from rich.console import Console

from embedtune.pipeline import RunConfig, run_pipeline
from embedtune.querygen.cache import CACHE_FILE

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pipeline_time.json"


def one_run(backend: str, ws: Path, llm_cache: Path | None, console: Console) -> dict:
    if ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True)
    if llm_cache is not None and llm_cache.exists():
        shutil.copyfile(llm_cache, ws / CACHE_FILE)
    cfg = RunConfig(inference=backend)
    t0 = time.perf_counter()
    result = run_pipeline(cfg, ws, console)
    wall = time.perf_counter() - t0
    rows = result.eval_report["tuned_vs_base"]
    return {"wall_seconds": round(wall, 1), "stage_seconds": result.seconds,
            "tuned_ndcg@10": {row["dim"]: round(row["tuned ndcg@10"], 4) for row in rows}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default="torch,torch-bf16")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/embedtune-pipeline-time"))
    args = ap.parse_args()
    console = Console()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    runs: dict[str, list[dict]] = {b: [] for b in backends}
    llm_cache: Path | None = None
    for i in range(args.runs):
        for backend in backends:
            ws = args.work / f"{backend}-{i}"
            runs[backend].append(one_run(backend, ws, llm_cache, console))
            llm_cache = llm_cache or ws / CACHE_FILE
    summary = {}
    for backend, rs in runs.items():
        stages = sorted({s for r in rs for s in r["stage_seconds"]}, key=list(rs[0]["stage_seconds"]).index)
        summary[backend] = {
            "wall_seconds": statistics.median(r["wall_seconds"] for r in rs),
            # generate runs the LLM (not the encoder) and only the very first run pays for it
            "seconds_without_generate": statistics.median(
                sum(v for k, v in r["stage_seconds"].items() if k != "generate") for r in rs),
            "stage_seconds": {s: statistics.median(r["stage_seconds"].get(s, 0.0) for r in rs) for s in stages},
            "tuned_ndcg@10": rs[-1]["tuned_ndcg@10"],
        }
    ref = summary[backends[0]]["seconds_without_generate"]
    for backend, s in summary.items():
        s["speedup_vs_" + backends[0]] = round(ref / s["seconds_without_generate"], 2)
        console.print(f"{backend}: {s['seconds_without_generate']:.0f} s without generate "
                      f"({s['speedup_vs_' + backends[0]]:.2f}x) {s['stage_seconds']}")
    RESULTS.write_text(json.dumps({"machine": {"platform": platform.platform()}, "runs": args.runs,
                                   "note": "the first run of the first backend also generated the LLM queries",
                                   "summary": summary, "all": runs}, indent=2) + "\n")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
