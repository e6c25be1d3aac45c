"""Time the dtype and backend choices that ``auto`` makes (embedtune.hardware), on this CPU, in about 2-4 minutes.

Sections (``--sections``, all by default), each a few short timed runs, median reported:

- ``matmul``: torch fp32 vs bf16 matrix products at the shapes that matter: the SmolLM2 MLP at prefill
  (512x576 @ 576x1536, the shape of issue 19) and at one decoding step of a 16-prompt batch (16x576 @ 576x1536),
  and the all-MiniLM-L6-v2 FFN on a 64-text batch (4096x384 @ 384x1536).
- ``generate``: the local query writer (SmolLM2-135M-Instruct) in float32 vs bfloat16: 4 prompts, 16 new tokens.
- ``encode``: all-MiniLM-L6-v2 through each embedtune inference backend on 128 SciFact-sample abstracts,
  runs interleaved across backends (``--runs``, default 3).
- ``train``: one all-MiniLM-L6-v2 forward+backward (16 pairs x 128 tokens) in fp32 vs bf16 autocast.

    python benchmarks/cpu_dtypes.py [--sections matmul,generate,encode,train] [--tag NAME]
    # emulate an AVX2-only CPU for torch/oneDNN (ONNX Runtime and OpenVINO still see the real CPU):
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/cpu_dtypes.py --tag avx2-emulated

Writes ``benchmarks/results/cpu_dtypes[-TAG].json`` with the capability record (CPU model, flags, torch's
kernel level) and the emulation variables. On a shared machine timings vary: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SECTIONS = ("matmul", "generate", "encode", "train")
BACKENDS = ("torch", "torch-bf16", "onnx", "onnx-int8", "openvino", "openvino-bf16")


def timed(fn: Callable[[], Any], runs: int, warmup: int = 1) -> list[float]:
    """Seconds of ``runs`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def med_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


def bench_matmul() -> dict[str, Any]:
    import torch

    shapes = {"smollm2_mlp_prefill": (512, 576, 1536), "smollm2_mlp_decode16": (16, 576, 1536),
              "minilm_ffn_batch64": (4096, 384, 1536)}
    out: dict[str, Any] = {}
    torch.manual_seed(0)
    for name, (m, k, n) in shapes.items():
        a, b = torch.randn(m, k), torch.randn(k, n)
        row = {}
        for dtype in ("float32", "bfloat16"):
            x, y = a.to(getattr(torch, dtype)), b.to(getattr(torch, dtype))
            # Emulated bf16 can take seconds a call: fewer runs for slow cases.
            first = timed(lambda: x @ y, 1, warmup=1)[0]
            runs = 2 if first > 0.5 else 7
            row[f"{dtype}_ms"] = med_ms(timed(lambda: x @ y, runs, warmup=0))
        row["bf16_over_fp32"] = round(row["bfloat16_ms"] / row["float32_ms"], 2)
        out[name] = row
        print(f"matmul {name} {m}x{k}@{k}x{n}: fp32 {row['float32_ms']} ms, bf16 {row['bfloat16_ms']} ms "
              f"({row['bf16_over_fp32']}x)", flush=True)
    return out


def bench_generate() -> dict[str, Any]:
    import torch

    from embedtune.models.registry import DEFAULT_GENERATOR
    from embedtune.querygen import LocalHFBackend, PromptSet
    from embedtune.querygen.backends.base import ChatRequest
    from embedtune.samples import scifact_sample

    docs = [json.loads(line) for line in (scifact_sample() / "corpus.jsonl").read_text().splitlines()[:4]]
    prompts = PromptSet("single", ["question"], max_passage_chars=600)
    requests = [ChatRequest(f"k{i}", tuple(prompts.render("question", d["title"], d["text"][:600], 1)), 1)
                for i, d in enumerate(docs)]
    out: dict[str, Any] = {}
    for dtype in ("float32", "bfloat16"):
        backend = LocalHFBackend(DEFAULT_GENERATOR, batch_size=4, dtype=dtype, max_new_tokens=16, temperature=0)
        t0 = time.perf_counter()
        backend.load()
        load_s = time.perf_counter() - t0
        assert next(backend._lm.parameters()).dtype == getattr(torch, dtype)
        tokens = [0]

        def run() -> None:
            tokens[0] = 0
            backend.generate(requests, lambda r, res: tokens.__setitem__(0, tokens[0] + res.completion_tokens))

        seconds = timed(run, 1, warmup=0)  # one batch: the first call is representative after load
        out[dtype] = {"load_s": round(load_s, 1), "seconds": round(seconds[0], 2),
                      "queries_per_s": round(len(requests) / seconds[0], 3),
                      "tokens_per_s": round(tokens[0] / seconds[0], 1)}
        print(f"generate SmolLM2 {dtype}: {out[dtype]}", flush=True)
        backend.close()
    out["bf16_over_fp32"] = round(out["bfloat16"]["seconds"] / out["float32"]["seconds"], 2)
    return out


def bench_encode(backends: list[str], runs: int = 3) -> dict[str, Any]:
    """docs/s per backend; runs interleaved (run 1 of every backend, then run 2...) so load changes hit all alike."""
    from embedtune.models import load_embedder
    from embedtune.retrieval import encode_texts
    from embedtune.samples import scifact_sample

    lines = (scifact_sample() / "corpus.jsonl").read_text().splitlines()[:128]
    texts = [(d["title"] + " " + d["text"]) for d in map(json.loads, lines)]
    out: dict[str, Any] = {}
    models = {}
    for name in backends:
        t0 = time.perf_counter()
        try:
            models[name] = load_embedder("all-MiniLM-L6-v2", inference=name)
        except Exception as e:  # e.g. openvino-bf16 under ONEDNN_MAX_CPU_ISA=AVX2 finds no bf16 kernels
            out[name] = {"error": f"{type(e).__name__}: {str(e).strip().splitlines()[0][:200]}"}
            print(f"encode {name}: {out[name]['error']}", flush=True)
            continue
        out[name] = {"load_s": round(time.perf_counter() - t0, 1), "seconds": []}
        encode_texts(models[name], texts[:8], "document", batch_size=64, progress=False)  # warm-up
    for _ in range(runs):
        for name, model in models.items():
            seconds = timed(lambda: encode_texts(model, texts, "document", batch_size=64, progress=False), 1, 0)
            out[name]["seconds"].append(round(seconds[0], 2))
    for name in models:
        out[name]["docs_per_s"] = round(len(texts) / statistics.median(out[name]["seconds"]), 1)
    base = out.get("torch", {}).get("docs_per_s")
    for name in models:
        if base:
            out[name]["vs_torch"] = round(out[name]["docs_per_s"] / base, 2)
        print(f"encode {name}: {out[name]}", flush=True)
    return out


def bench_train() -> dict[str, Any]:
    import torch

    from embedtune.models import load_embedder
    from embedtune.samples import scifact_sample

    model = load_embedder("all-MiniLM-L6-v2", inference="torch")
    lines = (scifact_sample() / "corpus.jsonl").read_text().splitlines()[:16]
    texts = [json.loads(line)["text"] for line in lines]
    model.max_seq_length = 128
    features = model.tokenize(texts)
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)

    def step(bf16: bool) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            emb = model(dict(features))["sentence_embedding"]
            loss = (emb.float() @ emb.float().T).logsumexp(dim=1).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()

    out: dict[str, Any] = {}
    for name, bf16 in (("float32", False), ("bf16_autocast", True)):
        first = timed(lambda: step(bf16), 1, warmup=0)[0]
        runs = 1 if first > 10 else 3
        out[f"{name}_s"] = round(statistics.median(timed(lambda: step(bf16), runs, warmup=0)), 3)
    out["bf16_over_fp32"] = round(out["bf16_autocast_s"] / out["float32_s"], 2)
    print(f"train step MiniLM 16x128: {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--backends", default=",".join(BACKENDS), help="encode section: backends to time")
    parser.add_argument("--runs", type=int, default=3, help="encode section: timed runs per backend")
    parser.add_argument("--tag", default="", help="suffix of the result file, e.g. avx2-emulated")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sections = [s for s in args.sections.split(",") if s]
    if unknown := set(sections) - set(SECTIONS):
        sys.exit(f"unknown sections: {', '.join(sorted(unknown))}")

    import torch

    from embedtune.hardware import detect

    cap = detect()
    print(cap.summary(), flush=True)
    results: dict[str, Any] = {
        "capability": cap.record(),
        "env": {k: os.environ.get(k) for k in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")},
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "load_avg_at_start": os.getloadavg(),
    }
    t0 = time.perf_counter()
    for section in sections:
        if section == "encode":
            results[section] = bench_encode([b for b in args.backends.split(",") if b], args.runs)
        else:
            results[section] = globals()[f"bench_{section}"]()
    results["load_avg_at_end"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - t0, 1)
    out = args.out or RESULTS / f"cpu_dtypes{'-' + args.tag if args.tag else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} ({results['seconds']} s)")


if __name__ == "__main__":
    main()
