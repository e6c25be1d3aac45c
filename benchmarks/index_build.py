"""Benchmark building an index version: re-embedding throughput and build time, per backend.

SciFact's 5,183 abstracts (``../shared/datasets/scifact``) are ingested once with all-MiniLM-L6-v2's tokenizer
(timed on its own), then each backend (LanceDB, milvus-lite) builds a version of the same chunks in a fresh
process, so neither inherits the other's warm model or caches. Per backend it reports:

- ``load_s``: loading the model; ``build_s``: ``build_index`` from start to a verified, complete version
  (encode + store + final id/count check), model load included, as a user waits for it;
- ``encode_s`` and ``chunks_per_s``: the re-embedding alone (batches of 256 chunks, 64 per forward pass);
- ``store_s``: build time less encoding and model load (chunk loading and hashing, appends,
  compaction/flush, the final id/count check);
- ``disk_bytes`` of the version and the raw float32 vector bytes;
- ``search_ms_per_query``: exact top-10 search of the 300 SciFact test queries, vectors precomputed.

    python benchmarks/index_build.py [--limit 200] [--backends lancedb,milvus] [--out PATH]

Writes benchmarks/results/index_build.json (or ``--out``). On a shared 2-core machine timings vary between
runs; the load average at start and end is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"
RESULTS = ROOT / "benchmarks" / "results" / "index_build.json"
MODEL = "all-MiniLM-L6-v2"
BATCH_SIZE = 256


def prepare_workspace(tmp: Path, limit: int | None) -> tuple[Path, dict]:
    """Ingest SciFact (its first ``limit`` documents) into a workspace; returns it and the ingest stats."""
    from embedtune.corpus import IngestConfig, ingest

    corpus = SCIFACT
    if limit is not None:
        corpus = tmp / "corpus"
        corpus.mkdir()
        with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as src, open(corpus / "corpus.jsonl", "w") as dst:
            for i, line in enumerate(src):
                if i == limit:
                    break
                dst.write(line)
    ws = tmp / "workspace"
    t0 = time.perf_counter()
    report = ingest([corpus / "corpus.jsonl"], ws, IngestConfig(model=MODEL))
    return ws, {"documents": report.documents, "chunks": report.chunks, "ingest_s": time.perf_counter() - t0,
                "chunk_tokens": report.chunk_tokens, "overlap_tokens": report.overlap_tokens}


def worker(spec: dict) -> dict:
    """One backend's build, in its own process."""
    import numpy as np

    from embedtune.evaluation import load_beir
    from embedtune.index import build_index, embed_for, open_store
    from embedtune.models import load_embedder, resolve_model

    result = build_index(spec["store"], "v1", MODEL, spec["workspace"], backend=spec["backend"],
                         batch_size=BATCH_SIZE)
    version = open_store(spec["store"]).open("v1")

    queries = list(load_beir(SCIFACT, "test").queries.values())
    vectors = embed_for(load_embedder(resolve_model(MODEL)), version.meta, queries)
    version.search(vectors[:1], 10)  # warm-up: first search opens files / loads the collection
    t = time.perf_counter()
    for row in vectors:  # one query at a time, as a server answers them
        version.search(row[np.newaxis], 10)
    search_s = time.perf_counter() - t
    meta = result.meta
    return {
        "backend": spec["backend"], "chunks": meta.count, "dim": meta.dim, "complete": meta.complete,
        "load_s": result.load_seconds, "build_s": result.seconds, "encode_s": result.encode_seconds,
        "store_s": result.seconds - result.encode_seconds - result.load_seconds, "chunks_per_s": result.chunks_per_s,
        "disk_bytes": version.disk_bytes(), "vector_bytes": meta.count * meta.dim * 4,
        "search_queries": len(queries), "search_ms_per_query": 1000 * search_s / len(queries),
    }


def run_worker(spec: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{spec['backend']} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="index only the first N documents (a smoke run)")
    parser.add_argument("--backends", default="lancedb,milvus")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    if not SCIFACT.exists():
        raise SystemExit(f"{SCIFACT} not found")

    results: dict = {
        "dataset": "scifact", "model": MODEL, "limit": args.limit, "batch_size": BATCH_SIZE,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_avg_at_start": os.getloadavg()},
        "versions": {p: metadata.version(p) for p in ("lancedb", "pymilvus", "milvus-lite", "torch",
                                                      "sentence-transformers")},
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="index-bench-") as tmp:
        ws, results["ingest"] = prepare_workspace(Path(tmp), args.limit)
        print(f"ingest: {results['ingest']['documents']:,} documents -> {results['ingest']['chunks']:,} chunks "
              f"in {results['ingest']['ingest_s']:.1f}s", flush=True)
        for backend in args.backends.split(","):
            spec = {"backend": backend, "store": str(Path(tmp) / f"store-{backend}"), "workspace": str(ws)}
            r = results["backends"][backend] = run_worker(spec)
            print(f"{backend}: {r['chunks']:,} chunks, build {r['build_s']:.1f}s (encode {r['encode_s']:.1f}s, "
                  f"{r['chunks_per_s']:.0f} chunks/s; store {r['store_s']:.1f}s), {r['disk_bytes'] or 0:,} bytes "
                  f"on disk, search {r['search_ms_per_query']:.2f} ms/query", flush=True)
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
