"""What the LLM part of a run will cost before it starts: calls, tokens (characters / 4), dollars or minutes."""

from __future__ import annotations

from collections.abc import Sequence

from embedtune.querygen.backends import QueryBackend
from embedtune.querygen.config import GenerateConfig
from embedtune.querygen.jobs import Job
from embedtune.querygen.report import Estimate

CHARS_PER_TOKEN = 4
TOKENS_PER_QUERY = 24  # a query of ~15 words plus JSON quoting, for the cost estimate
# SmolLM2-135M on 2 cores, batches of 16: bf16 where the CPU has it natively (AMX / AVX512-BF16) 2.2-6 queries/s
# measured, fp32 ~1 (benchmarks/cpu_dtypes.py). The progress lines then correct the estimate as batches finish.
LOCAL_QUERIES_PER_SECOND = {"bfloat16": 2.0, "float32": 1.0}


def estimate(jobs: Sequence[Job], cached: set[str], backend: QueryBackend, config: GenerateConfig) -> Estimate:
    """Calls to make and, for new ones, tokens (characters / 4) and cost, or time for a local model."""
    new = [j for j in jobs if j.request.key not in cached]
    # chars/4 per message plus ~4 tokens of chat framing each.
    prompt_tokens = sum(
        sum(len(m["content"]) // CHARS_PER_TOKEN + 4 for m in j.request.messages) for j in new
    )
    completion_tokens = sum(j.request.n * TOKENS_PER_QUERY for j in new)
    est = Estimate(
        calls=len(jobs), cached_calls=len(jobs) - len(new), new_calls=len(new),
        queries_asked=sum(j.request.n for j in jobs), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
    )
    if backend.name == "openai":
        est.cost_usd = (prompt_tokens * config.openai.price_in + completion_tokens * config.openai.price_out) / 1e6
    else:
        est.seconds = sum(j.request.n for j in new) / local_rate(backend)
    return est


def local_rate(backend: QueryBackend) -> float:
    """Queries per second a local writer is expected to reach on this CPU, by the dtype ``auto`` picks here."""
    from embedtune.hardware import resolve_dtype

    dtype = resolve_dtype(getattr(backend, "dtype", "auto"))
    return LOCAL_QUERIES_PER_SECOND.get(dtype, LOCAL_QUERIES_PER_SECOND["float32"])


def format_estimate(est: Estimate, backend: QueryBackend) -> str:
    line = (
        f"{backend.name} {backend.model}: {est.calls:,} calls for {est.queries_asked:,} queries, "
        f"{est.cached_calls:,} cached, {est.new_calls:,} to run"
    )
    if est.cost_usd is not None:
        line += f"; ~{est.prompt_tokens:,} prompt + ~{est.completion_tokens:,} completion tokens (chars/4 estimate)"
        line += f" = ~${est.cost_usd:.4f}" if est.cost_usd else " (give --price-in/--price-out for a cost)"
    elif est.seconds:
        took = f"{est.seconds:.0f} s" if est.seconds < 90 else f"{est.seconds / 60:.0f} min"
        line += f"; roughly {took} on this CPU (about {local_rate(backend):g} query/s)"
    return line
