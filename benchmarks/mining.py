"""Benchmark hard-negative mining: embedtune's miner against sentence-transformers' ``mine_hard_negatives``.

Both mine the training pairs of SciFact (919 pairs, 5,183 abstracts) and NFCorpus (train split, capped to a
seeded sample of queries: it has 2,590 queries with ~43 positives each) with all-MiniLM-L6-v2 and equivalent
settings: a 5% relative margin (= percpos 0.95 against the query's weakest positive, which ST also uses),
rank window 10-100, 3 negatives, top sampling. ST runs as users run it in ../shared/reference/hn_ref.py
(``use_faiss=False``, ``output_format="n-tuple"``, batch 64).

Every measurement is a fresh process, started through a small wrapper that reads
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after its single child exits: peak RSS of that run alone.
Wall and CPU time (``time.process_time``, all threads) are measured inside the worker from model load to
finished output rows (reading the dataset files is the same code on both sides and excluded); on a shared
machine CPU time is the steadier of the two. "cold" runs (one per side: they take minutes) include corpus
encoding on both sides (embedtune with an empty embedding cache, ST with an empty ``cache_folder``); "warm"
runs read the corpus vectors from each side's cache and encode the queries (ST's query cache file is deleted
before each run), interleaved between the sides so that load drifts hit both alike. With ``--skip cold``
the cold results recorded in the previous results file are kept and marked. "Mining alone" excludes model
loading and encoding: embedtune's warm wall time less its model load and query encoding (timed inside those
runs), and ST runs that also read its query cache (so encode nothing), less its model load.

Agreement: for each (query, positive) row both produced, Jaccard of the two negative sets (compared as texts,
since ST de-duplicates its corpus by text). It is reported for the 10-100 window and for 0-100: ST applies
``range_min`` to the candidates that *passed* its margin filter, embedtune to the retrieval rank, so the two
agree exactly only without a rank offset.

Scaling: SciFact's corpus replicated 10x (copies get new ids and a "[copy k]" suffix, so ST's text
de-duplication keeps them). Copies' vectors are the originals plus small noise, written into both sides' caches
instead of encoding 51,830 passages twice; both sides still encode the queries and search the full 10x corpus.

    python benchmarks/mining.py [--runs 5] [--nfcorpus-queries 500] [--skip cold,nfcorpus,scale,range0]

Writes benchmarks/results/mining.json and prints the Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "mining.json"
MODEL = "all-MiniLM-L6-v2"
SETTINGS = {"range_min": 10, "range_max": 100, "num_negatives": 3, "percpos": 0.95, "relative_margin": 0.05,
            "sampling": "top", "batch_size": 64}
REPLICAS = 10
NOISE = 0.01  # per-dimension noise of a replica's vector: cosine ~0.98 with its original

# Runs one command and reports its peak RSS alone: RUSAGE_CHILDREN covers exactly one finished child here.
WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter(); rc = subprocess.run(sys.argv[1:]).returncode\n"
    "print(json.dumps({'rc': rc, 'process_s': time.perf_counter() - t,\n"
    "                  'peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n"
)


# ---------------------------------------------------------------- data (the same code on both sides)

def load_data(name: str, max_queries: int | None, replicas: int = 1):
    """(queries, docs) of a BEIR train split: queries capped to a seeded sample, the corpus replicated."""
    from embedtune.evaluation import load_beir
    from embedtune.mining.inputs import beir_queries
    from embedtune.retrieval import Document

    data = load_beir(SHARED / name, "train")
    queries = beir_queries(data)
    if max_queries is not None and len(queries) > max_queries:
        keep = np.sort(np.random.default_rng(0).choice(len(queries), max_queries, replace=False))
        queries = [queries[i] for i in keep]
    docs = list(data.corpus)
    for k in range(1, replicas):
        docs += [Document(f"{d.id}#copy{k}", f"{d.text} [copy {k}]", d.title) for d in data.corpus]
    return queries, docs


def st_cache_path(model, folder: Path, texts: list[str], kind: str) -> Path:
    """Where ``mine_hard_negatives(cache_folder=...)`` keeps embeddings (its own naming, no prompts)."""
    name = model.model_card_data.base_model or ""
    digest = hashlib.sha256(repr((name, None, None, texts)).encode(), usedforsecurity=False).hexdigest()
    return folder / f"{kind}_embeddings_{digest}.npy"


# ---------------------------------------------------------------- workers (one process per measurement)

def work_embedtune(spec: dict) -> dict:
    import sentence_transformers  # noqa: F401  (imported before the clock starts, as on the ST side)

    from embedtune.mining import MiningConfig, mine_negatives
    from embedtune.models import load_embedder, resolve_model
    from embedtune.retrieval import model_fingerprint

    queries, docs = load_data(spec["dataset"], spec["max_queries"], spec["replicas"])
    t0, c0 = time.perf_counter(), time.process_time()
    model = load_embedder(MODEL)
    load_s = time.perf_counter() - t0
    config = MiningConfig(model=MODEL, range_min=spec["range_min"], range_max=spec["range_max"],
                          percpos=SETTINGS["percpos"], num_negatives=SETTINGS["num_negatives"],
                          sampling=SETTINGS["sampling"], batch_size=SETTINGS["batch_size"])
    mined = mine_negatives(queries, docs, config, encoder=model, model_hash=model_fingerprint(resolve_model(MODEL)),
                           cache_dir=spec["cache"])
    rows = [[r["query"], r["positive"], r["negatives"]] for r in mined.triplets()]
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "cpu_s": time.process_time() - c0, "rows": rows,
            "pairs": sum(len(q.positive_ids) for q in queries), "cache_hit": mined.report.cache_hit,
            "seconds": mined.report.seconds, "mining_only_s": wall - load_s - mined.report.seconds["encode_queries"]}


def work_st(spec: dict) -> dict:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives

    from embedtune.models import resolve_model

    queries, docs = load_data(spec["dataset"], spec["max_queries"], spec["replicas"])
    text = {d.id: d.full_text for d in docs}
    anchors = [q.query for q in queries for _ in q.positive_ids]
    positives = [text[p] for q in queries for p in q.positive_ids]
    corpus = [d.full_text for d in docs]
    t0, c0 = time.perf_counter(), time.process_time()
    model = SentenceTransformer(str(resolve_model(MODEL)), device="cpu")
    load_s = time.perf_counter() - t0
    dataset = Dataset.from_dict({"anchor": anchors, "positive": positives})
    out = mine_hard_negatives(
        dataset, model, corpus=corpus, num_negatives=SETTINGS["num_negatives"], range_min=spec["range_min"],
        range_max=spec["range_max"], relative_margin=SETTINGS["relative_margin"],
        sampling_strategy=SETTINGS["sampling"], output_format="n-tuple", batch_size=SETTINGS["batch_size"],
        use_faiss=False, cache_folder=spec["cache"], verbose=False,
    )
    n = SETTINGS["num_negatives"]
    rows = [[r["anchor"], r["positive"], [r[f"negative_{i}"] for i in range(1, n + 1)]] for r in out]
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "cpu_s": time.process_time() - c0, "rows": rows, "pairs": len(anchors),
            "mining_only_s": wall - load_s}  # with its query cache kept, ST encodes nothing


def worker(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    result = (work_embedtune if spec["side"] == "embedtune" else work_st)(spec)
    Path(spec["out"]).write_text(json.dumps(result))


# ---------------------------------------------------------------- orchestration

def measure(tmp: Path, **spec) -> dict:
    """One run in a fresh process: worker result plus the wrapper's peak RSS and process time."""
    spec.setdefault("range_max", SETTINGS["range_max"])
    spec_path = tmp / f"spec-{time.time_ns()}.json"
    spec["out"] = str(spec_path.with_suffix(".out.json"))
    spec_path.write_text(json.dumps(spec))
    if spec["side"] == "st" and spec["mode"] != "mining-only":  # warm ST runs encode the queries, as embedtune does
        for f in Path(spec["cache"]).glob("query_embeddings_*.npy"):
            f.unlink()
    label = (f"{spec['side']} {spec['dataset']} x{spec['replicas']} "
             f"range {spec['range_min']}-{spec['range_max']} ({spec['mode']})")
    print(f"  {label} ...", end="", flush=True)
    proc = subprocess.run([sys.executable, "-c", WRAPPER, sys.executable, __file__, "worker", str(spec_path)],
                          capture_output=True, text=True)
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    if stats["rc"] != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{label} failed")
    result = json.loads(Path(spec["out"]).read_text())
    print(f" {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU, {stats['peak_rss_mb']:.0f} MB", flush=True)
    return result | stats | {"mode": spec["mode"]}


def agreement(a: list, b: list) -> dict:
    """Jaccard of the negative sets of the rows both produced (keyed by query and positive text)."""
    left = {(q, p): set(n) for q, p, n in a}
    right = {(q, p): set(n) for q, p, n in b}
    both = [k for k in left if k in right]
    jac = [len(left[k] & right[k]) / len(left[k] | right[k]) if left[k] | right[k] else 1.0 for k in both]
    return {"rows_compared": len(both), "mean_jaccard": round(float(np.mean(jac)), 4) if jac else None,
            "identical_sets": round(float(np.mean([j == 1.0 for j in jac])), 4) if jac else None}


def summary(runs: list[dict]) -> dict:
    walls, cpus = [r["wall_s"] for r in runs], [r["cpu_s"] for r in runs]
    out = {"runs": len(runs), "median_wall_s": round(statistics.median(walls), 2),
           "median_cpu_s": round(statistics.median(cpus), 2), "wall_s": [round(w, 2) for w in walls],
           "cpu_s": [round(c, 2) for c in cpus], "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
           "rows": len(runs[-1]["rows"]), "pairs": runs[-1]["pairs"],
           "rows_with_all_negatives": sum(len(r[2]) == SETTINGS["num_negatives"] for r in runs[-1]["rows"])}
    if "seconds" in runs[-1]:
        out["phases_s"] = runs[-1]["seconds"]
    if all("mining_only_s" in r for r in runs):
        out["median_mining_only_s"] = round(statistics.median(r["mining_only_s"] for r in runs), 2)
    return out


def seed_scaled_caches(base_cache: Path, et_cache: Path, st_cache: Path, st_base_cache: Path) -> None:
    """Write the 10x corpus vectors into both sides' caches (originals plus noise; nothing is encoded).

    The originals come from the 1x embedtune cache (encoded there if the 1x runs were skipped). If the 1x ST
    cold run left its cache, its file name must be what :func:`st_cache_path` computes, or ST would encode.
    """
    from embedtune.models import load_embedder, resolve_model
    from embedtune.retrieval import encode_corpus, model_fingerprint
    from embedtune.retrieval.embedding_cache import corpus_cache_key

    model = load_embedder(MODEL)
    model_hash = model_fingerprint(resolve_model(MODEL))
    _, base_docs = load_data("scifact", None, 1)
    if list(st_base_cache.glob("corpus_embeddings_*.npy")):
        assert st_cache_path(model, st_base_cache, [d.full_text for d in base_docs], "corpus").exists()
    base = encode_corpus(model, base_docs, base_cache, model_hash=model_hash).vectors
    _, docs = load_data("scifact", None, REPLICAS)
    rng = np.random.default_rng(0)
    copies = [base] + [base + rng.normal(0, NOISE, base.shape).astype(np.float32) for _ in range(1, REPLICAS)]
    vectors = np.concatenate(copies)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(et_cache / f"{corpus_cache_key(model_hash, docs, model.max_seq_length, True)}.npy", vectors)
    np.save(st_cache_path(model, st_cache, [d.full_text for d in docs], "corpus"), vectors)


def compare(tmp: Path, caches: dict[str, Path], runs: int, **common) -> dict:
    """Warm runs of both sides, interleaved (the order alternates) so load drifts hit both alike.

    Then ST's mining alone: runs that also read its query cache, so they encode nothing (embedtune's mining
    alone is its warm wall time less model loading and query encoding, timed inside the same runs).
    """
    done: dict[str, list] = {"embedtune": [], "st": []}
    for i in range(runs):
        for side in ("embedtune", "st") if i % 2 == 0 else ("st", "embedtune"):
            done[side].append(measure(tmp, side=side, cache=str(caches[side]), mode="warm", **common))
    done["st-mining-only"] = [measure(tmp, side="st", cache=str(caches["st"]), mode="mining-only", **common)
                              for _ in range(runs)]
    return done


def _sec(s: dict, key: str) -> str:
    return f"{s[key]:.1f} s" if key in s else "n/a"  # cold runs recorded before CPU time was


def markdown(results: dict) -> str:
    lines = [
        "| dataset | passages | pairs | run | wall: embedtune / ST | CPU: embedtune / ST "
        "| mining alone: embedtune / ST | peak RSS: embedtune / ST "
        "| rows kept (with all 3 negatives): embedtune / ST | Jaccard 10-100 / 0-100 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["datasets"].items():
        agree = r.get("agreement", {})
        jac = " / ".join(str(agree.get(k, {}).get("mean_jaccard", "-")) for k in ("range_10_100", "range_0_100"))
        for mode in ("cold", "warm"):
            et, st = r["embedtune"].get(mode), r["st"].get(mode)
            if not et or not st:
                continue
            n = "1 run" if et["runs"] == 1 else f"median of {et['runs']}"
            alone = f"{_sec(et, 'median_mining_only_s')} / {_sec(st, 'median_mining_only_s')}"
            lines.append(
                f"| {name} | {r['docs']:,} | {r['pairs']:,} | {mode} ({n}) | "
                f"{et['median_wall_s']:.1f} s / {st['median_wall_s']:.1f} s | "
                f"{_sec(et, 'median_cpu_s')} / {_sec(st, 'median_cpu_s')} | "
                f"{alone if mode == 'warm' else ''} | "
                f"{et['peak_rss_mb']:,} / {st['peak_rss_mb']:,} MB | "
                f"{et['rows']:,} ({et['rows_with_all_negatives']:,}) / "
                f"{st['rows']:,} ({st['rows_with_all_negatives']:,}) | "
                f"{jac if mode == 'warm' else ''} |"
            )
    return "\n".join(lines)


def calibration_table(nfcorpus_queries: int) -> dict:
    """What embedtune's calibration says with default settings, per dataset and positive reference.

    Not a timing: run in this process, reading the corpus vectors from the user cache (encoded there once).
    """
    from embedtune.mining import MiningConfig, mine_negatives
    from embedtune.mining.calibration import choose_threshold
    from embedtune.models import load_embedder, resolve_model
    from embedtune.retrieval import model_fingerprint

    model = load_embedder(MODEL)
    model_hash = model_fingerprint(resolve_model(MODEL))
    table: dict = {}
    for name, cap in (("scifact", None), ("nfcorpus", nfcorpus_queries)):
        queries, docs = load_data(name, cap)
        for reference in ("min", "own"):
            report = mine_negatives(queries, docs, MiningConfig(positive_reference=reference), encoder=model,
                                    model_hash=model_hash).report
            cal = report.calibration
            i = cal.grid.index(cal.configured)
            pick, rate, _ = choose_threshold(cal.tuned, np.asarray(cal.false_negative_rate), 0.05)
            table[f"{name}/{reference}"] = {
                "hidden_positives": cal.support, "removed_at_0.95": cal.removed_fraction[i],
                "est_false_negative_rate_at_0.95": cal.false_negative_rate[i], "auto_threshold_5pct": pick,
                "est_rate_at_auto": round(rate, 4), "rows": report.rows, "rows_short": report.rows_short,
                "rows_without_negatives": report.rows_without_negatives,
            }
            print(name, reference, table[f"{name}/{reference}"], flush=True)
    return table


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        worker(sys.argv[2])
        return
    if len(sys.argv) >= 2 and sys.argv[1] == "calibration":  # adds the calibration table to the results
        results = json.loads(RESULTS.read_text())
        results["calibration"] = calibration_table(results["settings"]["nfcorpus_queries"])
        from embedtune.workspace import write_json

        write_json(RESULTS, results)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs per side, interleaved (median reported)")
    parser.add_argument("--nfcorpus-queries", type=int, default=500)
    parser.add_argument("--skip", default="", help="comma-separated: cold, nfcorpus, scale, range0")
    parser.add_argument("--workdir", type=Path, default=None, help="keep caches here (default: a temp folder)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    tmp = args.workdir or Path(tempfile.mkdtemp(prefix="mining-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    t_start = time.time()
    results: dict = {
        "command": "python benchmarks/mining.py " + " ".join(sys.argv[1:]),
        "settings": SETTINGS | {"model": MODEL, "st_use_faiss": False, "nfcorpus_queries": args.nfcorpus_queries},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_avg_at_start": os.getloadavg()},
        "versions": {p: metadata.version(p) for p in ("sentence-transformers", "torch", "faiss-cpu", "numpy")},
        "datasets": {},
    }
    plan = [("scifact", None)] + ([] if "nfcorpus" in skip else [("nfcorpus", args.nfcorpus_queries)])
    for i, (name, cap) in enumerate(plan):
        print(f"{name}:", flush=True)
        caches = {side: tmp / f"{name}-{side}-cache" for side in ("embedtune", "st")}
        queries, docs = load_data(name, cap)
        common = {"dataset": name, "max_queries": cap, "replicas": 1, "range_min": SETTINGS["range_min"]}
        entry: dict = {"docs": len(docs), "queries": len(queries), "pairs": sum(len(q.positive_ids) for q in queries),
                       "max_positives": max(len(q.positive_ids) for q in queries),
                       "embedtune": {}, "st": {}, "agreement": {}}
        if "cold" not in skip:
            for side in ("embedtune", "st") if i % 2 == 0 else ("st", "embedtune"):  # alternate who goes first
                shutil.rmtree(caches[side], ignore_errors=True)
                caches[side].mkdir(parents=True)
                entry[side]["cold"] = summary([measure(tmp, side=side, cache=str(caches[side]), mode="cold",
                                                       **common)])
        else:  # cold runs take many minutes: keep the recorded ones, marked as such
            for side in ("embedtune", "st"):
                caches[side].mkdir(parents=True, exist_ok=True)
                old = previous.get("datasets", {}).get(name, {}).get(side, {}).get("cold")
                if old:
                    entry[side]["cold"] = old | {"from_previous_run": old.get("from_previous_run")
                                                 or previous.get("finished_at")}
        done = compare(tmp, caches, args.runs, **common)
        for side in ("embedtune", "st"):
            entry[side]["warm"] = summary(done[side])
        entry["st"]["warm"]["median_mining_only_s"] = summary(done["st-mining-only"])["median_mining_only_s"]
        entry["agreement"]["range_10_100"] = agreement(done["embedtune"][-1]["rows"], done["st"][-1]["rows"])
        if "range0" not in skip:
            zero = {side: measure(tmp, side=side, cache=str(caches[side]), mode="warm", **{**common, "range_min": 0})
                    for side in ("embedtune", "st")}
            entry["agreement"]["range_0_100"] = agreement(zero["embedtune"]["rows"], zero["st"]["rows"])
        if name == "nfcorpus":  # ST searches range_max + max_positives deep; what a deeper window gives here
            deep = measure(tmp, side="embedtune", cache=str(caches["embedtune"]), mode="warm", range_max=1000,
                           **common)
            entry["embedtune_range_10_1000"] = summary([deep])
        results["datasets"][name] = entry

    if "scale" not in skip:
        print(f"scifact x{REPLICAS} (vectors seeded, not encoded):", flush=True)
        caches = {side: tmp / f"scale-{side}-cache" for side in ("embedtune", "st")}
        for c in caches.values():
            shutil.rmtree(c, ignore_errors=True)
            c.mkdir(parents=True)
        seed_scaled_caches(tmp / "scifact-embedtune-cache", caches["embedtune"], caches["st"],
                           tmp / "scifact-st-cache")
        common = {"dataset": "scifact", "max_queries": None, "replicas": REPLICAS, "range_min": SETTINGS["range_min"]}
        done = compare(tmp, caches, args.runs, **common)
        entry = {"embedtune": {"warm": summary(done["embedtune"])}, "st": {"warm": summary(done["st"])}}
        entry["st"]["warm"]["median_mining_only_s"] = summary(done["st-mining-only"])["median_mining_only_s"]
        entry["docs"] = len(load_data("scifact", None, REPLICAS)[1])
        entry["pairs"] = entry["embedtune"]["warm"]["pairs"]
        results["datasets"][f"scifact x{REPLICAS}"] = entry

    results["total_benchmark_s"] = round(time.time() - t_start)
    results["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    from embedtune.workspace import write_json

    write_json(RESULTS, results)
    print(markdown(results))
    print(f"wrote {RESULTS}")
    if args.workdir is None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
