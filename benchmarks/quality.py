"""Does `embedtune run` make a better model, and a better one than the plain sentence-transformers recipe?

For each dataset (BEIR layout, whole corpus ingested, official test queries as the eval set) and each source of
training queries:

- ``generated``: what embedtune writes from the corpus itself with its default settings (SmolLM2 questions on
  a sample of chunks + the offline signals on every chunk); no human training query is used;
- ``human``: the dataset's own training queries (``qrels/train.tsv``), imported with ``generate.labelled``;

two recipes are trained from all-MiniLM-L6-v2 on the same chunks, the same split and the same budget
(rows, epochs, batch, lr, sequence length, Matryoshka dims):

- ``embedtune``: the default run config (filtered queries, positive-aware mined hard negatives);
- ``plain``: the plain sentence-transformers recipe: MatryoshkaLoss(MNRL) with in-batch negatives only, no
  mining, no query filtering (the eval-contamination check stays on: it guards the measurement, not quality).

Every tuned model is compared with the base at every Matryoshka dim on the test queries (NDCG@10 at document
level, MaxP over chunks; paired t-test and randomisation test, both must be < 0.05), embedtune is compared
with plain the same way, and tuned@64 with base@384. Stage wall times come from the pipeline's own timer.
Eval documents (judged relevant in the test qrels) are kept out of training on both sides (the default), unless
``--transductive`` is given: then training queries may come from every document, as in GPL and BEIR's own
training splits (never from a test query). NFCorpus needs it: its test qrels judge 3,128 of its 3,633 documents
relevant, so the strict split would leave 505 documents to train on.

Run: python benchmarks/quality.py [--datasets scifact,nfcorpus] [--signals generated,human] [--transductive]
     [--work DIR]
Writes benchmarks/results/quality.json (merged per dataset/signal, so a partial run keeps what it finished)
and prints the Markdown table for docs/benchmarks.md. Workspaces resume: rerunning skips finished stages.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from pathlib import Path

from rich.console import Console

from embedtune.evaluation.significance import compare
from embedtune.pipeline import RunConfig, run_pipeline
from embedtune.querygen.cache import CACHE_FILE

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "quality.json"
PRIMARY = "ndcg@10"


def configure(dataset: Path, signal: str, recipe: str, transductive: bool = False) -> RunConfig:
    cfg = RunConfig()
    cfg.corpus = [dataset]
    cfg.split = cfg.split.model_copy(update={"exclude_eval_docs": not transductive})
    cfg.eval.dataset, cfg.eval.split = dataset, "test"
    gen = cfg.generate
    if signal == "human":
        gen = gen.model_copy(update={"backend": "none", "signals": [], "labelled": dataset, "labelled_split": "train"})
    if recipe == "plain":
        cfg.mine = False
        cfg.train = cfg.train.model_copy(update={"hard_negatives": 0})
        gen = gen.model_copy(update={"filters": gen.filters.model_copy(update={
            "min_chars": 1, "min_words": 1, "max_words": 10_000, "drop_meta": False, "copy_threshold": None,
            "round_trip": "none", "near_duplicate": None,
        })})
    cfg.generate = gen
    return cfg


def _share_caches(dataset_dir: Path, dst: Path) -> None:
    """Reuse base-model vectors and LLM answers of an earlier run on the same corpus (same inputs, no re-pay)."""
    dst.mkdir(parents=True, exist_ok=True)
    for src in sorted(dataset_dir.glob("*/*")):
        if src == dst:
            continue
        if (src / "cache").exists() and not (dst / "cache").exists():
            shutil.copytree(src / "cache", dst / "cache")
        if (src / CACHE_FILE).exists() and not (dst / CACHE_FILE).exists():
            shutil.copyfile(src / CACHE_FILE, dst / CACHE_FILE)


def _per_query(result, system: str) -> dict[str, float]:
    """``system``'s per-query NDCG@10 from ``eval_report.json`` (``dense:tuned@384``, ``hybrid:base``, ...)."""
    return result.eval_report[f"per_query_{PRIMARY}"][system]


def _summary(result, ws: Path) -> dict:
    """The run's numbers, from ``eval_report.json`` (also there when a rerun found the evaluation current)."""
    report = result.eval_report
    runs = report["runs"]
    manifest = json.loads((ws / "manifest.json").read_text())
    train = manifest["stages"].get("train", {}).get("summary", {})
    split = json.loads((ws / "split_report.json").read_text())
    return {
        "per_dim": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                    for row in report["tuned_vs_base"]],
        "tuned64_vs_base_full": report.get("tuned_small_vs_base_full"),
        "bm25": runs.get("bm25", {}).get(PRIMARY),
        "hybrid_base": runs.get("hybrid:base", {}).get(PRIMARY),
        "hybrid_tuned": runs.get("hybrid:tuned", {}).get(PRIMARY),
        "train_queries": split["train_queries"], "dev_queries": split["dev_queries"],
        "eval_queries": split["eval_queries"],
        "train_rows": train.get("rows"), "train_steps": train.get("steps"),
        "stage_seconds": result.seconds,
    }


def run_one(dataset: Path, signal: str, work: Path, console: Console, transductive: bool) -> dict:
    out: dict = {"protocol": "transductive" if transductive else "strict"}
    results = {}
    for recipe in ("embedtune", "plain"):
        ws = work / dataset.name / signal / recipe
        _share_caches(work / dataset.name, ws)
        t0 = time.perf_counter()
        results[recipe] = run_pipeline(configure(dataset, signal, recipe, transductive), ws, console)
        out[recipe] = _summary(results[recipe], ws) | {"wall_seconds": round(time.perf_counter() - t0, 1)}
    dims = [row["dim"] for row in results["embedtune"].eval_report["tuned_vs_base"]]
    out["embedtune_vs_plain"] = []
    for d in dims:
        tuned = f"dense:tuned@{d}"
        cmp = compare(_per_query(results["embedtune"], tuned), _per_query(results["plain"], tuned), PRIMARY)
        out["embedtune_vs_plain"].append({"dim": d, "delta": round(cmp.delta, 4), "p_ttest": round(cmp.p_ttest, 4),
                                          "p_randomization": round(cmp.p_randomization, 4),
                                          "significant": cmp.significant()})
    return out


def markdown(results: dict) -> str:
    lines = ["| dataset | training queries | dim | base | plain ST recipe | embedtune | embedtune vs base (p) "
             "| embedtune vs plain (p) |", "|---|---|---|---|---|---|---|---|"]
    for key, r in results["runs"].items():
        dataset, signal = key.split("/")
        if r.get("protocol") == "transductive":
            signal += ", transductive"
        e, p = r["embedtune"]["per_dim"], r["plain"]["per_dim"]
        for i, row in enumerate(e):
            vs = r["embedtune_vs_plain"][i]
            mark = "**" if row["significant"] and row["delta"] > 0 else ""
            lines.append(
                f"| {dataset} | {signal} ({r['embedtune']['train_rows']} rows) | {row['dim']} | {row['base ndcg@10']:.4f} "
                f"| {p[i]['tuned ndcg@10']:.4f} | {mark}{row['tuned ndcg@10']:.4f}{mark} "
                f"| {row['delta']:+.4f} ({row['p-value']:.3g}) | {vs['delta']:+.4f} ({vs['p_randomization']:.3g}) |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="scifact,nfcorpus")
    ap.add_argument("--signals", default="generated,human")
    ap.add_argument("--transductive", action="store_true",
                    help="train on queries from every document, test-judged ones included")
    ap.add_argument("--work", type=Path, default=Path("/tmp/embedtune-quality"))
    args = ap.parse_args()
    console = Console()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    results["machine"] = {"cpu_count": __import__("os").cpu_count(), "platform": platform.platform()}
    for name in args.datasets.split(","):
        for signal in args.signals.split(","):
            t0 = time.perf_counter()
            r = run_one(DATASETS / name, signal, args.work, console, args.transductive)
            r["seconds"] = round(time.perf_counter() - t0, 1)
            results["runs"][f"{name}/{signal}"] = r
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
            console.print(f"{name}/{signal} done in {r['seconds']:.0f}s")
    print(markdown(results))


if __name__ == "__main__":
    main()
