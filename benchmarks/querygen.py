"""How specific is each source of synthetic queries? Share of queries whose own passage BM25 ranks first.

For SciFact (one chunk per abstract, title line included as ingest does), per source: SmolLM2-135M-Instruct
questions on a sample of abstracts (local backend, packaged prompt), title -> abstract, inverse cloze,
keyphrase; and, as a reference point, the human test queries (any relevant abstract ranked first). Each source
is checked against the passage it would be trained on (title queries against bodies without titles, inverse
cloze against passages with the sentence removed), over the whole corpus, and the share that survives the
default lexical filters (length, meta, copy, duplicate, round trip in BM25 top-10) is reported too.

The retrieval quality of a model *trained* on each source (NDCG@10) comes from the training benchmark; it is
recorded here as pending.

Run: python benchmarks/querygen.py [--llm-docs 100] [--per-chunk 2] [--dataset ../shared/datasets/scifact]
Writes benchmarks/results/querygen.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from embedtune.corpus.chunk import Chunk
from embedtune.querygen import FilterConfig, GenerateConfig, GenerationCache, LocalHFBackend, apply_filters
from embedtune.querygen.backends.offline_signals import offline_queries
from embedtune.querygen.filters import round_trip_ranks
from embedtune.querygen.jobs import plan_jobs, prompt_set, run_jobs
from embedtune.retrieval import BM25Retriever, Document
from embedtune.workspace import read_jsonl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "scifact"


def load_chunks(dataset: Path) -> list[Chunk]:
    chunks = []
    for row in read_jsonl(dataset / "corpus.jsonl"):
        title, body = row.get("title") or "", row["text"]
        chunks.append(Chunk(
            id=row["_id"], doc_id=row["_id"], title=title, text=f"{title}\n{body}" if title else body,
            source="scifact", start_char=0, end_char=len(body), n_tokens=0, title_included=bool(title),
        ))
    return chunks


def summarise(queries, ranks, filtered, examples: int = 3) -> dict:
    n = len(queries)
    return {
        "queries": n,
        "bm25_top1": round(sum(r == 1 for r in ranks) / n, 3) if n else None,
        "bm25_top10": round(sum(r is not None for r in ranks) / n, 3) if n else None,
        "kept_by_default_filters": round(len(filtered.kept) / n, 3) if n else None,
        "dropped_by": dict(Counter(reason for _, reason in filtered.rejected).most_common()),
        "examples": [q.text for q in queries[:examples]],
    }


def human_reference(dataset: Path, chunks: list[Chunk]) -> dict:
    """Share of the real test queries for which BM25 ranks a relevant abstract first (or in the top 10)."""
    texts = {row["_id"]: row["text"] for row in read_jsonl(dataset / "queries.jsonl")}
    qrels: dict[str, set[str]] = {}
    for line in (dataset / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, did, score = line.split("\t")
        if int(score) > 0:
            qrels.setdefault(qid, set()).add(did)
    bm25 = BM25Retriever()
    bm25.index([Document(id=c.id, text=c.body, title=c.title) for c in chunks])
    run = bm25.search({q: texts[q] for q in qrels}, k=10)
    top1 = top10 = 0
    for qid, rel in qrels.items():
        order = sorted(run.get(qid, {}), key=lambda d: -run[qid][d])
        top1 += bool(order) and order[0] in rel
        top10 += bool(set(order) & rel)
    return {"queries": len(qrels), "bm25_top1": round(top1 / len(qrels), 3), "bm25_top10": round(top10 / len(qrels), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--llm-docs", type=int, default=100, help="abstracts given to SmolLM2 (0: skip the LLM)")
    parser.add_argument("--per-chunk", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--cache", type=Path, default=None, help="generation cache (reruns are free); default: a temp file")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "querygen.json")
    args = parser.parse_args()

    chunks = load_chunks(args.dataset)
    results: dict = {"dataset": args.dataset.name, "chunks": len(chunks), "retriever": "bm25s, Lucene BM25 k1=1.2 b=0.75, "
                     "title and body fields, Porter stemmer", "sources": {}, "timings": {}}
    filters = FilterConfig(encoder=None)

    t0 = time.perf_counter()
    offline = offline_queries(chunks, ["title", "inverse_cloze", "keyphrase"], seed=0)
    results["timings"]["offline_signals_s"] = round(time.perf_counter() - t0, 1)
    by_style: dict[str, list] = {}
    for q in offline:
        by_style.setdefault(q.style, []).append(q)

    if args.llm_docs:
        sample = random.Random(0).sample(chunks, args.llm_docs)
        config = GenerateConfig(backend="local", per_chunk=args.per_chunk, seed=0)
        backend = LocalHFBackend(batch_size=args.batch_size, seed=0)
        jobs = plan_jobs(sample, chunks, config, backend, prompt_set(config, backend))
        cache_path = args.cache or Path(tempfile.mkdtemp()) / "cache.sqlite"
        with GenerationCache(cache_path) as cache:
            if len(cache.get_many([j.request.key for j in jobs])) < len(jobs):
                t0 = time.perf_counter()
                backend.load()
                results["timings"]["smollm2_load_s"] = round(time.perf_counter() - t0, 1)
            llm_queries, stats = run_jobs(jobs, backend, cache)
        results["timings"]["smollm2_new_calls"] = stats.new_calls
        if stats.new_calls:
            results["timings"]["smollm2_queries_per_s"] = round(stats.new_calls / stats.seconds, 2)
            results["timings"]["smollm2_generation_s"] = stats.seconds
        by_style[f"question ({backend.model}, {args.llm_docs} abstracts x {args.per_chunk})"] = llm_queries

    bm25 = BM25Retriever()
    for name, queries in by_style.items():
        ranks = round_trip_ranks(queries, chunks, bm25, k=10)
        filtered = apply_filters(queries, chunks, filters, retriever=bm25)
        source = name if name.startswith("question") else f"offline/{name}"
        results["sources"][source] = summarise(queries, ranks, filtered)
        print(source, {k: v for k, v in results["sources"][source].items() if k != "examples"}, flush=True)
    results["sources"]["human test queries (reference)"] = human_reference(args.dataset, chunks)
    results["ndcg_after_training"] = "pending: NDCG@10 of a model trained on each source comes from the training benchmark"
    results["machine"] = f"{platform.processor() or platform.machine()}, shared 2-core CPU; timings vary 2-4x between runs"
    if not results["timings"].get("smollm2_new_calls") and args.out.exists():
        # Everything came from the cache: keep the generation timings of the run that paid for it.
        previous = json.loads(args.out.read_text()).get("timings", {})
        results["timings"] |= {k: v for k, v in previous.items() if k.startswith("smollm2_") and k != "smollm2_new_calls"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results["sources"], indent=2, ensure_ascii=False))
    print(json.dumps(results["timings"]))


if __name__ == "__main__":
    main()
