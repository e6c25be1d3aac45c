"""Is a query-only adapter enough, or is a full fine-tune worth re-embedding the corpus? Both on one workspace (issue 23).

For each dataset (BEIR layout, whole corpus ingested, official test queries as the eval set) and each source of
training queries (``generated`` from the corpus, ``human`` = ``qrels/train.tsv``; as in ``benchmarks/quality.py``,
whose ``configure`` builds the run config, NFCorpus transductive), the pipeline runs (or resumes) with embedtune's
default recipe and trains the full fine-tune from all-MiniLM-L6-v2; the gate and the teacher are off, so the
fine-tune is compared as trained. Then, on the same workspace, a query adapter is trained from the same training
rows (every mined row) against the base model's cached corpus vectors: the corpus is never re-encoded.

Reported per Matryoshka dim on the test queries (NDCG@10 at document level, MaxP over chunks; paired t-test and
randomisation test, both < 0.05): base, adapter and fine-tune, the adapter's share of the fine-tune's lift; and
the cost of each path: the adapter's training seconds (query encoding included) and bytes, against the
fine-tune's training seconds plus re-embedding the corpus (the base model's encode rate measured on 64 chunks x
the chunks) and a second copy of the vectors at full dim; then embedtune's recommendation (embedtune.adapter.recommend).

    python benchmarks/adapter.py [--datasets scifact,nfcorpus] [--signals generated,human] [--kinds linear]
        [--work /tmp/embedtune-adapter] [--reuse scifact/generated=/tmp/embedtune-teachers/scifact/mined]

``--reuse`` copies a finished workspace of another benchmark (``training_variants.copy_workspace``; its embedding
cache is copied too, never written) instead of building one. Writes benchmarks/results/adapter.json (merged per
dataset/signal) with the CPU and its capabilities, and prints the Markdown tables for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from rich.console import Console

from embedtune.adapter import AdapterConfig, compare_in_workspace, measure_encode_rate, train_adapter
from embedtune.encoding.base import ENV_VAR
from embedtune.hardware import capability_record, resolve_inference
from embedtune.pipeline import RunConfig, run_pipeline
from quality import DATASETS, configure, _share_caches
from training_variants import copy_workspace

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "adapter.json"
TRANSDUCTIVE = {"nfcorpus"}  # its test qrels judge 3,128 of 3,633 documents (quality.py's docstring)


def _config(dataset: Path, signal: str) -> RunConfig:
    cfg = configure(dataset, signal, "embedtune", dataset.name in TRANSDUCTIVE)
    # The settings of teachers.py's `mined` recipe, so a copy of that workspace stays current: the fine-tune as
    # trained (the gate is measured on its own), no teacher, no reranked baseline row.
    cfg.teach = cfg.teach.model_copy(update={"teacher": "none"})
    cfg.gate = cfg.gate.model_copy(update={"enabled": False})
    cfg.report = cfg.report.model_copy(update={"rerank": None})
    return cfg


def _workspace(dataset: Path, signal: str, work: Path, reuse: dict[str, Path]) -> Path:
    ws = work / dataset.name / signal
    if ws.exists():
        return ws
    src = reuse.get(f"{dataset.name}/{signal}")
    if src is None:
        _share_caches(work / dataset.name, ws)  # the other signal's base corpus vectors: same chunks, same key
        return ws
    if not (src / "manifest.json").exists():
        raise SystemExit(f"{src}: not a finished workspace to reuse")
    copy_workspace(src, ws)
    link = ws / "cache"
    if link.is_symlink():  # copy_workspace links the source's cache; the new fine-tune's vectors must not land there
        target = link.resolve()
        link.unlink()
        shutil.copytree(target, link)
    return ws


def _rounded(row: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}


def run_one(dataset: Path, signal: str, work: Path, kinds: list[str], reuse: dict[str, Path], console: Console) -> dict:
    ws = _workspace(dataset, signal, work, reuse)
    cfg = _config(dataset, signal)
    # The adapter's code loads models with load_embedder's default backend ($EMBEDTUNE_INFERENCE): make it the
    # run's, so queries are encoded like the cached corpus vectors the adapter reads.
    os.environ[ENV_VAR] = resolve_inference(cfg.inference)
    t0 = time.perf_counter()
    result = run_pipeline(cfg, ws, console)
    manifest = json.loads((ws / "manifest.json").read_text())
    train = manifest["stages"]["train"]["summary"]
    split = json.loads((ws / "split_report.json").read_text())
    out: dict = {"protocol": "transductive" if dataset.name in TRANSDUCTIVE else "strict",
                 "train_queries": split["train_queries"], "eval_queries": split["eval_queries"],
                 "fine_tune": {"rows": train["rows"], "steps": train["steps"], "train_seconds": train["seconds"]},
                 "pipeline_wall_seconds": round(time.perf_counter() - t0, 1), "adapters": {}}
    rate = None
    for kind in kinds:
        trained = train_adapter(ws, AdapterConfig(base_model=cfg.base_model, kind=kind), out=ws / "adapters" / kind)
        if rate is None:  # once per workspace: the same base model and chunks for every kind
            from embedtune.corpus import load_chunks
            from embedtune.models import load_embedder
            from embedtune.retrieval.base import Document

            docs = [Document(c.id, c.text) for c in load_chunks(ws)]
            rate = measure_encode_rate(load_embedder(cfg.base_model), docs)
        cmp = compare_in_workspace(ws, cfg.base_model, trained.path, tuned_model=result.model_dir,
                                   tuned_train_seconds=train["seconds"], encode_rate=rate)
        advice = cmp.recommendation
        out["adapters"][kind] = {
            "training": {"rows": trained.rows, "source": trained.source, "best_epoch": trained.best_epoch,
                         "dev_ndcg@10_by_epoch": [round(x, 4) for x in trained.history],
                         "train_seconds": round(trained.seconds, 1),
                         "query_encode_seconds": round(trained.query_encode_seconds, 1)},
            "per_dim": [_rounded(r) for r in cmp.rows()],
            "share_of_lift": None if advice is None or advice.share is None else round(advice.share, 3),
            "costs": [_rounded(c.__dict__) for c in cmp.costs],
            "recommendation": None if advice is None else {"choice": advice.choice, "reason": advice.reason},
        }
        out["encode_rate_chunks_per_s"], out["chunks"] = round(rate, 1), cmp.chunks
        console.print(advice.line() if advice else "no recommendation", highlight=False)
    return out


def _p(p: float) -> str:
    return f"{p:.2g}"


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def markdown(results: dict) -> str:
    quality = ["| dataset | training queries | adapter | dim | base | adapter (Δ, p) | full fine-tune (Δ, p) "
               "| adapter's share of the lift |", "|---|---|---|---|---|---|---|---|"]
    cost = ["| dataset | training queries | adapter: training (rows) | adapter: size | fine-tune: training "
            "| fine-tune: re-embedding (chunks) | fine-tune: 2nd vector copy | adapter's share (mean over dims) "
            "| recommendation |", "|---|---|---|---|---|---|---|---|---|"]
    for key, r in results["runs"].items():
        dataset, signal = key.split("/")
        label = f"{signal}, transductive" if r["protocol"] == "transductive" else signal
        for kind, a in r["adapters"].items():
            for row in a["per_dim"]:
                share = row.get("adapter share of tuned lift")
                quality.append(
                    f"| {dataset} | {label} | {kind} | {row['dim']} | {row['base ndcg@10']:.4f} "
                    f"| {row['adapter ndcg@10']:.4f} ({row['adapter delta']:+.4f}, {_p(row['adapter p'])}) "
                    f"| {row['tuned ndcg@10']:.4f} ({row['tuned delta']:+.4f}, {_p(row['tuned p'])}) "
                    f"| {_share(share)} |")
            ad, ft = a["costs"]
            t = a["training"]
            rec = a["recommendation"] or {}
            cost.append(
                f"| {dataset} | {label} | {kind}: {ad['train_seconds']:.0f} s ({t['query_encode_seconds']:.0f} s of it "
                f"encoding queries; {t['rows']:,} rows) | {ad['extra_storage_bytes'] / 1e3:.0f} kB "
                f"| {ft['train_seconds']:.0f} s ({r['fine_tune']['rows']:,} rows) "
                f"| {ft['reembed_seconds']:.0f} s ({r['chunks']:,} at {r['encode_rate_chunks_per_s']} /s) "
                f"| {ft['extra_storage_bytes'] / 1e6:.1f} MB | {_share(a['share_of_lift'])} "
                f"| {rec.get('choice', '-')}: {rec.get('reason', '')} |")
    return "\n".join(quality) + "\n\n" + "\n".join(cost)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="scifact,nfcorpus")
    ap.add_argument("--signals", default="generated,human")
    ap.add_argument("--kinds", default="linear", help="adapter kinds: linear, mlp")
    ap.add_argument("--work", type=Path, default=Path("/tmp/embedtune-adapter"))
    ap.add_argument("--reuse", action="append", default=["scifact/generated=/tmp/embedtune-teachers/scifact/mined"],
                    help="DATASET/SIGNAL=WORKSPACE: copy this finished workspace instead of building one")
    args = ap.parse_args()
    reuse = {k: Path(v) for k, v in (item.split("=", 1) for item in args.reuse)}
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    console = Console()
    for key in (f"{d}/{s}" for d in args.datasets.split(",") for s in args.signals.split(",")):
        t0 = time.perf_counter()
        dataset, signal = key.split("/")
        r = run_one(DATASETS / dataset, signal, args.work, kinds, reuse, console) | {
            "seconds": round(time.perf_counter() - t0, 1)}
        _merge(key, r)
        console.print(f"{key} done in {r['seconds']:.0f}s")
    print(markdown(json.loads(RESULTS.read_text())))


def _merge(key: str, run: dict) -> None:
    """Results so far with ``run`` under ``key`` (a partial run keeps what it finished), written back."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    results["machine"] = capability_record()
    results["runs"][key] = run
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
