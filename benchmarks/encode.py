"""Benchmark corpus encoding: plain ``SentenceTransformer.encode`` vs each embedtune inference backend.

SciFact's 5,183 abstracts (``../shared/datasets/scifact``, title + text) are encoded with all-MiniLM-L6-v2
by every system, in the same process, interleaved (run 1 of every system, then run 2, ...) so that a change
in machine load hits all systems alike. Per system it reports:

- ``chunks_per_s``: median over ``--runs`` of documents / encode seconds (model already loaded and warmed up);
  ``speedup``: that, divided by plain's median;
- ``load_s``: loading the model (for ONNX backends: the first load includes the export, cached afterwards;
  the benchmark uses a fresh export cache so the export time is measured);
- ``ndcg@10`` on SciFact's 300 test queries (queries encoded by the same system; exact search) and
  ``ndcg_rel_diff`` vs plain; ``cosine_to_plain``: mean and min cosine of document vectors to plain's.

Systems: ``plain`` (``SentenceTransformer(path).encode(texts, batch_size=64, normalize_embeddings=True)``, its
own within-call length sorting), and ``torch``, ``torch-bf16``, ``onnx``, ``onnx-int8``, ``openvino``,
``openvino-bf16`` through ``embedtune.models.load_embedder(path, inference=...)`` +
``embedtune.retrieval.encode_texts`` (global length sort, ``torch.inference_mode``, the backend's thread
settings). Goal (issue 9): >= 2x plain throughput with
NDCG@10 within 1% relative.

    python benchmarks/encode.py [--limit 300] [--runs 3] [--systems plain,torch,onnx-int8] [--out PATH]

``--limit N`` keeps the first N documents and the test queries with a relevant document among them (a smoke
run: its NDCG is not comparable with the full corpus's). Writes benchmarks/results/encode.json (or ``--out``).
On a shared machine timings vary between runs; the load average at start and end is recorded, and so is the CPU
(model, torch's kernel level, bf16 / int8 flags: ``embedtune.hardware``), since every ratio depends on it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"
RESULTS = ROOT / "benchmarks" / "results" / "encode.json"
MODEL = "all-MiniLM-L6-v2"
BATCH_SIZE = 64
SYSTEMS = ("plain", "torch", "torch-bf16", "onnx", "onnx-int8", "openvino", "openvino-bf16")


def load_data(limit: int | None):
    """Documents (first ``limit``), test queries and qrels restricted to those documents."""
    from embedtune.evaluation.beir import load_beir

    data = load_beir(SCIFACT, "test")
    docs = data.corpus[:limit] if limit else data.corpus
    kept = {d.id for d in docs}
    qrels = {q: {d: g for d, g in rel.items() if d in kept} for q, rel in data.qrels.items()}
    qrels = {q: rel for q, rel in qrels.items() if any(g > 0 for g in rel.values())}
    queries = {q: data.queries[q] for q in qrels}
    return docs, queries, qrels


def load_system(name: str, path: Path):
    """(model, encode function) for one system; the encode function takes (texts, kind)."""
    if name == "plain":
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(path), device="cpu")

        def encode(texts: list[str], kind: str) -> np.ndarray:
            fn = model.encode_query if kind == "query" else model.encode_document
            return fn(texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True,
                      show_progress_bar=False)

        return model, encode
    from embedtune.models import load_embedder
    from embedtune.retrieval import encode_texts

    model = load_embedder(path, inference=name)
    return model, lambda texts, kind: encode_texts(model, texts, kind, batch_size=BATCH_SIZE, progress=False)


def ndcg10(doc_vecs: np.ndarray, doc_ids: list[str], query_vecs: np.ndarray, qids: list[str], qrels) -> float:
    from embedtune.evaluation.metrics import evaluate_run
    from embedtune.retrieval import exact_search

    idx, scores = exact_search(query_vecs, doc_vecs, 100)
    run = {q: {doc_ids[j]: float(s) for j, s in zip(idx[i], scores[i])} for i, q in enumerate(qids)}
    return evaluate_run(qrels, run, ["ndcg@10"]).means["ndcg@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="Encode only the first N documents.")
    parser.add_argument("--runs", type=int, default=3, help="Timed encodes per system (median reported).")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="Comma-separated subset of " + ",".join(SYSTEMS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if unknown := set(systems) - set(SYSTEMS) - {"auto"}:  # auto: the backend embedtune picks for this CPU
        sys.exit(f"unknown systems: {', '.join(sorted(unknown))}")

    import torch

    from embedtune.encoding import onnx_export
    from embedtune.hardware import detect
    from embedtune.models import resolve_model

    onnx_export.ONNX_CACHE = Path(tempfile.mkdtemp(prefix="embedtune-bench-onnx-"))  # measure the export too
    path = resolve_model(MODEL)
    docs, queries, qrels = load_data(args.limit)
    texts, ids = [d.full_text for d in docs], [d.id for d in docs]
    qids = list(queries)
    results: dict = {
        "model": MODEL, "documents": len(docs), "queries": len(qids), "runs": args.runs, "batch_size": BATCH_SIZE,
        "limit": args.limit,
        "capability": detect().record(),
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "python": platform.python_version(), "platform": platform.platform(),
                    "load_avg_at_start": os.getloadavg()},
        "versions": {p: metadata.version(p)
                     for p in ("torch", "sentence-transformers", "transformers", "onnxruntime", "openvino")},
        "systems": {},
    }

    loaded = {}
    for name in systems:
        t0 = time.perf_counter()
        _, encode = load_system(name, path)
        load_s = time.perf_counter() - t0
        encode(["warm up", "a second, longer warm-up text"], "document")  # first-call setup out of the timings
        loaded[name] = encode
        results["systems"][name] = {"load_s": round(load_s, 2), "seconds": []}
        print(f"{name}: loaded in {load_s:.1f}s", flush=True)

    vectors: dict[str, np.ndarray] = {}
    for run in range(args.runs):
        for name in systems:
            t0 = time.perf_counter()
            vecs = loaded[name](texts, "document")
            seconds = time.perf_counter() - t0
            results["systems"][name]["seconds"].append(round(seconds, 3))
            vectors[name] = vecs
            print(f"run {run + 1} {name}: {len(texts) / seconds:,.1f} docs/s", flush=True)

    ref = vectors.get("plain", vectors[systems[0]])
    ref_name = "plain" if "plain" in vectors else systems[0]
    for name in systems:
        r = results["systems"][name]
        r["chunks_per_s"] = round(len(texts) / statistics.median(r["seconds"]), 2)
        qvecs = loaded[name]([queries[q] for q in qids], "query")
        r["ndcg@10"] = round(ndcg10(vectors[name], ids, qvecs, qids, qrels), 5)
        cos = (vectors[name] * ref).sum(axis=1)
        r["cosine_to_plain"] = {"mean": round(float(cos.mean()), 6), "min": round(float(cos.min()), 6)}
    base = results["systems"][ref_name]
    for name in systems:
        r = results["systems"][name]
        r["speedup"] = round(r["chunks_per_s"] / base["chunks_per_s"], 3)
        r["ndcg_rel_diff"] = round((r["ndcg@10"] - base["ndcg@10"]) / base["ndcg@10"], 5) if base["ndcg@10"] else None
        r["meets_goal"] = r["speedup"] >= 2.0 and r["ndcg_rel_diff"] is not None and abs(r["ndcg_rel_diff"]) <= 0.01
    results["reference"] = ref_name
    results["machine"]["load_avg_at_end"] = os.getloadavg()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nCPU: {detect().summary()}")  # the ratios below hold for this CPU only
    print(f"{'system':<12}{'docs/s':>10}{'speedup':>9}{'ndcg@10':>9}{'rel diff':>10}{'cos min':>9}{'load s':>8}")
    for name in systems:
        r = results["systems"][name]
        print(f"{name:<12}{r['chunks_per_s']:>10,.1f}{r['speedup']:>8.2f}x{r['ndcg@10']:>9.4f}"
              f"{r['ndcg_rel_diff']:>+10.2%}{r['cosine_to_plain']['min']:>9.4f}{r['load_s']:>8.1f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
