"""Load-test ``embedtune serve``: latency under a bounded concurrent load, with a promote and a rollback mid-run.

The server runs as users run it, ``python -m embedtune serve --store DIR`` in its own process on 127.0.0.1.
This process sends ``--requests`` requests (default 2,000) from ``--concurrency`` (16) concurrent httpx async
clients: a seeded mix of ``/search`` (dense and hybrid) with the bundled SciFact claims as queries, and
``/v1/embeddings`` batches of 1-``--embed-batch`` claims. After a third of the requests it promotes another
version of the store through the index API (as a deploy script in another process would), after two thirds it
rolls back; the server must follow both without a restart and without failing a single request. When the
load ends before the server's next alias check (short runs), single-search probes follow until the last
switch shows; they count for errors and switch lags, not for latency.

Reported: p50/p95/p99/max latency per endpoint and overall (client-side, from send to full response),
request throughput, ``/health`` latency probed every 0.1 s during the load (the event loop must stay
responsive while workers encode), the error count (must be 0), how many answers each version gave and how
long after each switch the first answer from the new version came, and the server's RSS at start (after
loading, before the load) and end (psutil, else ``/proc/<pid>/status``). A BM25 index is built on a
version's first hybrid query, so the first hybrid search after a switch is among the slowest.

Without ``--store`` a demo store is built in a temporary folder: the first ``--demo-docs`` SciFact abstracts
(one chunk each) indexed with ``--model`` twice, at the model's full dim (``full``, live) and at half of it
(``half``), so a switch is visible in ``/health``'s dim as well as in each answer's version name. A given
store is a LanceDB folder or a Milvus server URL; a milvus-lite folder admits one process, the server's, so
this process could not promote in it.

    python benchmarks/serve_load.py [--store DIR] [--promote NAME] [--requests 2000] [--concurrency 16]

Writes benchmarks/results/serve_load.json (or ``--output``) and exits non-zero when a request failed or a
switch was not observed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "serve_load.json"
STARTUP_TIMEOUT_S = 300
SETTLE_TIMEOUT_S = 15
HEALTH_PROBE_S = 0.1
RSS_SAMPLE_S = 1.0


@dataclass
class Sample:
    """One request as the client saw it."""

    endpoint: str  # "search_dense" | "search_hybrid" | "embeddings"
    started: float  # seconds since the load began
    latency_ms: float
    status: int  # HTTP status, 0 when no response came (connection error, timeout)
    index: str | None  # the version that answered
    error: str | None


# ---------------------------------------------------------------------------------------------- the store


def claims() -> list[str]:
    """The bundled SciFact claims: realistic, short queries."""
    from embedtune.samples import scifact_sample

    with open(scifact_sample() / "queries.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def build_demo_store(root: Path, model: str, docs: int) -> Path:
    """Two versions of the first ``docs`` SciFact abstracts: ``full`` (live) and ``half`` (half the dim)."""
    from embedtune.index import build_index, open_store
    from embedtune.models import load_embedder
    from embedtune.samples import scifact_sample
    from embedtune.workspace import write_jsonl

    rows = []
    with open(scifact_sample() / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            text = f"{doc['title']}\n{doc['text']}".strip()
            rows.append({"id": f"{doc['_id']}#0", "doc_id": doc["_id"], "title": doc["title"], "text": text,
                         "source": "scifact", "start_char": 0, "end_char": len(text), "n_tokens": 0})
            if len(rows) == docs:
                break
    ws = root / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    write_jsonl(ws / "chunks.jsonl", rows)
    store = root / "store"
    dim = int(load_embedder(model).get_embedding_dimension())
    print(f"building a demo store: {len(rows):,} abstracts x 2 versions with {model}", flush=True)
    build_index(store, "full", model, ws)
    build_index(store, "half", model, ws, dim=dim // 2)
    open_store(store).promote("full")
    return store


def pick_target(store, wanted: str | None) -> tuple[str, str]:
    """(the live version, the version to promote during the load)."""
    live = store.live_name()
    if live is None:
        sys.exit(f"store {store.uri} has no live version; promote one first")
    complete = [m.name for m in store.versions() if m.complete and m.name != live]
    if wanted is not None:
        if wanted not in complete:
            sys.exit(f"--promote {wanted}: not a complete version other than the live {live!r} ({complete})")
        return live, wanted
    if not complete:
        sys.exit(f"store {store.uri} has only the live version {live!r}; build a second one to switch to")
    return live, complete[-1]


# ---------------------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 1e6
    except ImportError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        return None
    return None


def start_server(store: str | Path, port: int, concurrency: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "embedtune", "serve", "--store", str(store), "--port", str(port),
           "--concurrency", str(concurrency), "--poll-interval", "1"]
    out = open(log, "w", encoding="utf-8")  # noqa: SIM115 (lives as long as the server)
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_healthy(url: str, server: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with code {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{url}/health", timeout=2).raise_for_status().json()
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    sys.exit(f"the server did not answer /health within {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


# ---------------------------------------------------------------------------------------------- the load


def plan(n: int, texts: list[str], search_share: float, hybrid_share: float, embed_batch: int, seed: int):
    """The requests, seeded: (endpoint, path, JSON body)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < search_share:
            mode = "hybrid" if rng.random() < hybrid_share else "dense"
            out.append((f"search_{mode}", "/search", {"query": rng.choice(texts), "k": 10, "mode": mode}))
        else:
            batch = rng.sample(texts, rng.randint(1, embed_batch))
            out.append(("embeddings", "/v1/embeddings", {"input": batch, "model": "live"}))
    return out


async def send(client: httpx.AsyncClient, t0: float, endpoint: str, path: str, body: dict) -> Sample:
    start = time.perf_counter()
    try:
        response = await client.post(path, json=body)
    except httpx.HTTPError as e:
        return Sample(endpoint, start - t0, (time.perf_counter() - start) * 1e3, 0, None, f"{type(e).__name__}: {e}")
    latency = (time.perf_counter() - start) * 1e3
    if response.status_code != 200:
        return Sample(endpoint, start - t0, latency, response.status_code, None, response.text[:300])
    data = response.json()
    return Sample(endpoint, start - t0, latency, 200, data.get("index") or data.get("model"), None)


async def run_load(url: str, requests: list, concurrency: int, store, live: str, target: str, server_pid: int):
    """Send ``requests`` at ``concurrency``; promote ``target`` after a third, roll back after two thirds.

    Also samples the server's RSS every ``RSS_SAMPLE_S`` as (seconds, requests done, MB), to show whether memory
    levels off once both versions are loaded."""
    samples: list[Sample] = []
    switches: list[dict] = []
    semaphore = asyncio.Semaphore(concurrency)
    t0 = time.perf_counter()
    marks = {len(requests) // 3: ("promote", target), 2 * len(requests) // 3: ("rollback", live)}
    switch_tasks = []

    async def switch(action: str, to: str, at: int) -> None:
        issued = time.perf_counter() - t0
        if action == "promote":
            await asyncio.to_thread(store.promote, to)
        else:
            got = await asyncio.to_thread(store.rollback)
            assert got == to, f"rollback went to {got!r}, expected {to!r}"
        switches.append({"action": action, "to": to, "after_requests": at, "issued_s": round(issued, 3),
                         "done_s": round(time.perf_counter() - t0, 3)})

    async def one(client: httpx.AsyncClient, request) -> None:
        async with semaphore:
            samples.append(await send(client, t0, *request))
            mark = marks.pop(len(samples), None)
            if mark is not None:
                switch_tasks.append(asyncio.create_task(switch(*mark, len(samples))))

    health_ms: list[float] = []
    rss_samples: list[tuple[float, int, float]] = []
    loading = asyncio.Event()

    async def sample_rss() -> None:
        while not loading.is_set():
            mb = rss_mb(server_pid)
            if mb is not None:
                rss_samples.append((round(time.perf_counter() - t0, 1), len(samples), round(mb, 1)))
            await asyncio.sleep(RSS_SAMPLE_S)

    async def probe_health() -> None:  # a responsive event loop answers these in milliseconds under load
        async with httpx.AsyncClient(base_url=url, timeout=30) as probe_client:
            while not loading.is_set():
                start = time.perf_counter()
                (await probe_client.get("/health")).raise_for_status()
                health_ms.append((time.perf_counter() - start) * 1e3)
                await asyncio.sleep(HEALTH_PROBE_S)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    settle: list[Sample] = []
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        prober = asyncio.create_task(probe_health())
        rss_sampler = asyncio.create_task(sample_rss())
        await asyncio.gather(*(one(client, r) for r in requests))
        wall = time.perf_counter() - t0
        loading.set()
        await prober
        await rss_sampler
        await asyncio.gather(*switch_tasks)
        # A short run can end before the server's next alias check: probe until the last switch shows.
        probe = ("settle", "/search", {"query": requests[0][2].get("query", "probe"), "k": 1})
        deadline = time.perf_counter() + SETTLE_TIMEOUT_S
        while switches and time.perf_counter() < deadline:
            last = max(switches, key=lambda s: s["done_s"])
            if any(x.index == last["to"] and x.started >= last["done_s"] for x in samples + settle):
                break
            settle.append(await send(client, t0, *probe))
            await asyncio.sleep(0.05)
    return samples, settle, switches, wall, health_ms, rss_samples


# ---------------------------------------------------------------------------------------------- the report


def latency_stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    a = np.asarray(values)
    return {"n": len(values), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "p99_ms": round(float(np.percentile(a, 99)), 1),
            "max_ms": round(float(a.max()), 1), "mean_ms": round(float(a.mean()), 1)}


def rss_by_share(rss_samples: list[tuple[float, int, float]], total: int) -> dict:
    """Server RSS at each tenth of the requests (the last sample at or before it): flat after the promote means
    no leak, since both versions' models and BM25 indexes are cached on purpose once used."""
    out = {}
    for tenth in range(1, 11):
        done = [mb for _, n, mb in rss_samples if n <= total * tenth // 10]
        if done:
            out[f"{tenth * 10}%"] = done[-1]
    return out


def observe_switches(samples: list[Sample], switches: list[dict]) -> None:
    """Add to each switch when the first request answered by its target started, after the switch was done."""
    for s in switches:
        after = [x for x in samples if x.started >= s["done_s"] and x.index == s["to"]]
        first = min((x.started for x in after), default=None)
        s["first_answer_from_target_s"] = round(first, 3) if first is not None else None
        s["observed"] = first is not None
        s["lag_s"] = round(first - s["done_s"], 3) if first is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="Store folder or Milvus URL to serve (default: build a demo store).")
    parser.add_argument("--promote", help="Version to promote mid-run (default: newest complete non-live one).")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="Concurrent client requests.")
    parser.add_argument("--server-concurrency", type=int, default=4, help="The server's --concurrency.")
    parser.add_argument("--search-share", type=float, default=0.7, help="Share of requests that are /search.")
    parser.add_argument("--hybrid-share", type=float, default=0.3, help="Share of searches that are hybrid.")
    parser.add_argument("--embed-batch", type=int, default=8, help="Most texts per /v1/embeddings request.")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="Model of the demo store.")
    parser.add_argument("--demo-docs", type=int, default=1500, help="Abstracts in the demo store.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    from embedtune.index import open_store

    t_start = time.time()
    load_at_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="embedtune-serve-load-"))
    store_path = args.store or build_demo_store(tmp, args.model, args.demo_docs)
    store = open_store(store_path)
    live, target = pick_target(store, args.promote)
    metas = {m.name: m for m in store.versions()}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "server.log"
    server = start_server(store_path, port, args.server_concurrency, log)
    try:
        health = wait_healthy(url, server, log)
        rss_start = rss_mb(server.pid)
        print(f"serving {health['index']!r} (dim {health['dim']}) at {url}; {args.requests:,} requests at "
              f"concurrency {args.concurrency}, promoting {target!r} then rolling back", flush=True)
        requests = plan(args.requests, claims(), args.search_share, args.hybrid_share, args.embed_batch, args.seed)
        samples, settle, switches, wall, health_ms, rss_samples = asyncio.run(
            run_load(url, requests, args.concurrency, store, live, target, server.pid)
        )
        final = httpx.get(f"{url}/health", timeout=10).json()
        rss_end = rss_mb(server.pid)
    finally:
        if store.live_name() != live:  # an aborted run must not leave the store switched
            store.promote(live)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    observe_switches(samples + settle, switches)
    errors = [s for s in samples + settle if s.error is not None]
    endpoints = sorted({s.endpoint for s in samples})
    results = {
        "command": "python benchmarks/serve_load.py " + " ".join(sys.argv[1:]),
        "settings": {k: v for k, v in vars(args).items()
                     if k not in ("output", "store") and not (args.store and k in ("model", "demo_docs"))}
        | {"store": str(args.store) if args.store else "demo"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_avg_at_start": load_at_start},
        "versions": {p: metadata.version(p) for p in ("fastapi", "uvicorn", "httpx", "torch", "sentence-transformers",
                                                       "lancedb")},
        "index_versions": {n: {"dim": metas[n].dim, "count": metas[n].count, "model": metas[n].model_path}
                           for n in (live, target)},
        "requests": len(samples),
        "settle_probes": len(settle),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(samples) / wall, 1),
        "errors": len(errors),
        "error_examples": [f"{s.endpoint} {s.status}: {s.error}" for s in errors[:5]],
        "latency": {"all": latency_stats([s.latency_ms for s in samples])}
        | {e: latency_stats([s.latency_ms for s in samples if s.endpoint == e]) for e in endpoints}
        | {"health_probe": latency_stats(health_ms)},
        "answers_by_version": {
            v: sum((s.index or "-") == v for s in samples) for v in sorted({s.index or "-" for s in samples})
        },
        "switches": switches,
        "live_at_end": final["index"],
        "server_rss_mb": {"start": round(rss_start, 1) if rss_start else None,
                          "end": round(rss_end, 1) if rss_end else None,
                          "by_share_of_requests": rss_by_share(rss_samples, len(requests))},
        "rss_samples": [{"s": t, "requests_done": n, "mb": mb} for t, n, mb in rss_samples],
    }
    results["ok"] = not errors and all(s["observed"] for s in switches) and final["index"] == live
    results["total_benchmark_s"] = round(time.time() - t_start)
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    from embedtune.workspace import write_json

    write_json(args.output, results)
    shutil.rmtree(tmp, ignore_errors=True)
    lat = results["latency"]
    print("\n".join(
        f"{e:>14}: n={v['n']:>5}  p50 {v['p50_ms']:>7} ms  p95 {v['p95_ms']:>7} ms  p99 {v['p99_ms']:>7} ms"
        for e, v in lat.items() if v["n"]
    ))
    print(f"{results['throughput_rps']} req/s, {len(errors)} errors, answers by version "
          f"{results['answers_by_version']}, RSS {results['server_rss_mb']['start']} -> "
          f"{results['server_rss_mb']['end']} MB; by share of requests {results['server_rss_mb']['by_share_of_requests']}")
    for s in switches:
        print(f"{s['action']} -> {s['to']!r} at {s['done_s']} s: first answer from it "
              f"{'after ' + str(s['lag_s']) + ' s' if s['observed'] else 'NEVER'}")
    print(f"wrote {args.output}")
    if not results["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
