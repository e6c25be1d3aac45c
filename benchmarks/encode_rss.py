"""Memory of the serving encode path alone: is the server's slow RSS creep a leak or the allocator?

Loads all-MiniLM-L6-v2 as ``embedtune serve`` does and encodes ``--calls`` batches of 1-8 bundled SciFact
claims (the query mix of ``serve_load.py``) on 4 threads (the server's default worker count), printing and
recording this process's RSS after every twelfth of the calls. No server, no index, no request objects: what
grows here grows in torch and the C allocator, not in embedtune's own structures.

    python benchmarks/encode_rss.py [--calls 6000]

Writes benchmarks/results/encode_rss.json.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from serve_load import claims, rss_mb

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "encode_rss.json"
STEPS = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from embedtune.models import load_embedder
    from embedtune.retrieval.embedding_cache import encode_texts
    from embedtune.workspace import write_json

    texts = claims()
    model = load_embedder("all-MiniLM-L6-v2")
    rng = random.Random(0)
    jobs = [rng.sample(texts, rng.randint(1, 8)) for _ in range(args.calls)]
    step = max(1, args.calls // STEPS)
    samples = [{"calls": 0, "rss_mb": round(rss_mb(os.getpid()) or 0, 1), "s": 0.0}]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        for start in range(0, args.calls, step):
            batch = jobs[start:start + step]
            list(pool.map(lambda b: encode_texts(model, b, "query", normalize=True, progress=False), batch))
            samples.append({"calls": start + len(batch), "rss_mb": round(rss_mb(os.getpid()) or 0, 1),
                            "s": round(time.perf_counter() - t0, 1)})
            print(f"{samples[-1]['calls']:>6} calls  RSS {samples[-1]['rss_mb']:.1f} MB", flush=True)
    write_json(args.out, {"command": "python benchmarks/encode_rss.py", "calls": args.calls,
                          "threads": args.threads, "samples": samples})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
