"""The ``generate`` stage: ``chunks.jsonl`` -> synthetic queries (``queries.jsonl``) + ``querygen_report.json``.

Most teams have no labelled queries. The standard recipe (InPars, Bonifacio et al. 2022; Promptagator, Dai et
al. 2022; GPL, Wang et al. 2022) has an LLM write, for each chunk, the questions a user would ask that it answers,
and keeps the (query, chunk) pairs that survive quality filters. Here an LLM covers a budgeted sample of chunks
(``max_chunks``), offline signals (titles, headings, inverse cloze, keyphrases) cover every chunk at no cost,
and the report counts every source and every filter separately so a person can judge which ones to train on.

Every LLM call goes through a SQLite cache in the workspace: a killed run resumes where it stopped, a rerun
pays nothing, and a changed prompt regenerates only the calls that used it.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from embedtune.corpus import load_chunks
from embedtune.corpus.chunk import CHUNKS_FILE, Chunk
from embedtune.errors import EmbedtuneError
from embedtune.hashing import fingerprint_paths, sha256_file, sha256_json
from embedtune.progress import console, progress_bar
from embedtune.querygen.backends import SIGNALS, ChatRequest, ChatResult, QueryBackend, offline_queries
from embedtune.querygen.backends.offline_signals import chunks_by_doc
from embedtune.querygen.cache import CACHE_FILE, GenerationCache, cache_key
from embedtune.querygen.filters import FilterConfig, apply_filters
from embedtune.querygen.labelled import labelled_queries
from embedtune.querygen.prompts import STYLES, PromptSet, load_examples
from embedtune.querygen.query import Query, query_id, read_query_texts
from embedtune.querygen.report import REPORT_FILE, Estimate, LLMStats, QuerygenReport
from embedtune.retrieval.base import Retriever
from embedtune.scale import ray_address
from embedtune.workspace import Workspace, read_jsonl, write_json, write_jsonl

STAGE = "generate"
QUERIES_FILE = "queries.jsonl"
REJECTED_FILE = "querygen_rejected.jsonl"
FORMAT = 1  # bump when the query format or an algorithm changes, so old results are not reused
CHARS_PER_TOKEN = 4
TOKENS_PER_QUERY = 24  # a query of ~15 words plus JSON quoting, for the cost estimate
# SmolLM2-135M on 2 cores, batches of 16: bf16 where the CPU has it natively (AMX / AVX512-BF16) 2.2-6 queries/s
# measured, fp32 ~1 (benchmarks/cpu_dtypes.py). The progress lines then correct the estimate as batches finish.
LOCAL_QUERIES_PER_SECOND = {"bfloat16": 2.0, "float32": 1.0}
DEFAULT_PASSAGE_CHARS = {"local": 900, "openai": 4000}  # tiny models lose the thread on long prompts


class OpenAIOptions(BaseModel):
    """Settings of the OpenAI-compatible backend; only ``base_url`` changes what is generated."""

    base_url: str = ""
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Environment variable holding the API key.")
    concurrency: int = Field(default=8, ge=1)
    requests_per_minute: float | None = Field(default=None, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=60.0, ge=0)
    timeout: float = Field(default=60.0, gt=0)
    price_in: float = Field(default=0.0, ge=0, description="$ per 1M prompt tokens, for the cost estimate.")
    price_out: float = Field(default=0.0, ge=0, description="$ per 1M completion tokens.")


class LocalOptions(BaseModel):
    """Settings of the local transformers backend."""

    batch_size: int = Field(default=16, ge=1)
    dtype: str = Field(
        default="auto", description="Weights dtype: auto (bfloat16 where the CPU runs it natively, else float32), "
        "float32 or bfloat16 (emulated and ~44x slower on CPUs without AMX / AVX512-BF16)."
    )
    max_new_tokens: int = Field(default=40, ge=1)
    top_p: float = Field(default=0.95, gt=0, le=1)


# Options that change how fast or how safely a run goes, never what it produces: not part of the stage params.
_OPERATIONAL = {
    "openai": {"api_key_env", "concurrency", "requests_per_minute", "max_attempts", "backoff_base", "backoff_max",
               "timeout", "price_in", "price_out"},
    "local": {"batch_size"},
}


_INPUT_FILES = ("examples", "eval_queries", "labelled")


class GenerateConfig(BaseModel):
    """Everything that decides which queries a run writes."""

    backend: Literal["local", "openai", "none"] = Field(
        default="local", description="LLM backend; 'none' uses offline signals only."
    )
    model: str | None = Field(default=None, description="Generator: local default SmolLM2-135M-Instruct; required for openai.")
    styles: list[str] = Field(default_factory=lambda: ["question"], description=f"Prompt styles, cycled over chunks: {', '.join(STYLES)}.")
    per_chunk: int = Field(default=2, ge=1, description="LLM queries per chunk.")
    max_chunks: int | None = Field(default=1000, ge=1, description="LLM budget: a random sample of this many chunks; None: all.")
    signals: list[str] = Field(default_factory=lambda: list(SIGNALS), description="Offline signals, run on every chunk.")
    domain: str = Field(default="", description="A few words on what the documents are about, for the prompt.")
    examples: Path | None = Field(default=None, description="Real user queries for few-shot prompting.")
    prompt_dir: Path | None = Field(default=None, description="Folder of templates overriding the packaged ones.")
    max_passage_chars: int | None = Field(default=None, ge=100, description="Passage cut in prompts (default per backend).")
    temperature: float = Field(default=0.7, ge=0)
    seed: int = 0
    eval_queries: Path | None = Field(default=None, description="Eval queries (BEIR queries.jsonl) no query may copy.")
    labelled: Path | None = Field(
        default=None, description="Real training queries: a BEIR folder (qrels/<labelled_split>.tsv) or a JSONL of {query, doc_id}."
    )
    labelled_split: str = "train"
    filters: FilterConfig = Field(default_factory=FilterConfig)
    openai: OpenAIOptions = Field(default_factory=OpenAIOptions)
    local: LocalOptions = Field(default_factory=LocalOptions)

    @field_validator("styles")
    @classmethod
    def _known_styles(cls, styles: list[str]) -> list[str]:
        if unknown := [s for s in styles if s not in STYLES]:
            raise ValueError(f"unknown style {unknown[0]!r}; styles: {', '.join(STYLES)}")
        if not styles:
            raise ValueError("give at least one style")
        return styles

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, signals: list[str]) -> list[str]:
        if unknown := [s for s in signals if s not in SIGNALS]:
            raise ValueError(f"unknown signal {unknown[0]!r}; signals: {', '.join(SIGNALS)}")
        return signals

    def stage_params(self) -> dict[str, Any]:
        # The files' contents are stage inputs (hashed); their paths would make a moved workspace stale.
        return self.model_dump(mode="json", exclude=_OPERATIONAL | dict.fromkeys(_INPUT_FILES, True)) | {"format": FORMAT}


def make_backend(config: GenerateConfig) -> QueryBackend | None:
    """The LLM backend a config asks for (nothing is loaded or contacted yet)."""
    if config.backend == "openai":
        from embedtune.querygen.backends import OpenAICompatBackend

        o = config.openai
        return OpenAICompatBackend(
            o.base_url, config.model or "", api_key_env=o.api_key_env, concurrency=o.concurrency,
            requests_per_minute=o.requests_per_minute, max_attempts=o.max_attempts, backoff_base=o.backoff_base,
            backoff_max=o.backoff_max, timeout=o.timeout, temperature=config.temperature,
        )
    if config.backend == "local":
        from embedtune.models.registry import DEFAULT_GENERATOR
        from embedtune.querygen.backends import LocalHFBackend

        lo = config.local
        return LocalHFBackend(
            config.model or DEFAULT_GENERATOR, batch_size=lo.batch_size, dtype=lo.dtype,
            max_new_tokens=lo.max_new_tokens, temperature=config.temperature, top_p=lo.top_p, seed=config.seed,
        )
    return None


@dataclass(frozen=True)
class Job:
    """One LLM call and the chunk, style and prompt it belongs to."""

    request: ChatRequest
    chunk: Chunk
    style: str
    prompt_hash: str
    chunk_hash: str
    sample: int
    related: tuple[str, ...] = ()


def llm_sample(chunks: Sequence[Chunk], max_chunks: int | None, seed: int) -> list[Chunk]:
    """A seeded random order of the chunks, cut to the budget; a smaller budget is a prefix of a larger one."""
    order = list(range(len(chunks)))
    random.Random(seed).shuffle(order)
    return [chunks[i] for i in order[:max_chunks]]


def _neighbour(chunk: Chunk, docs: dict[str, list[Chunk]]) -> Chunk | None:
    """The next chunk of the same document (the previous one for the last chunk), if any."""
    siblings = docs[chunk.doc_id]
    i = next(k for k, c in enumerate(siblings) if c.id == chunk.id)
    return siblings[i + 1] if i + 1 < len(siblings) else (siblings[i - 1] if i > 0 else None)


def prompt_set(config: GenerateConfig, backend: QueryBackend) -> PromptSet:
    """The backend's template family for the configured styles (plus ``question``, multi-hop's fallback)."""
    styles = list(dict.fromkeys([*config.styles, *(["question"] if "multihop" in config.styles else [])]))
    # FORMAT is in the prompt hash too, so a change in how prompts are rendered also bypasses the cache.
    params = {"temperature": config.temperature, "format": FORMAT}
    if backend.name == "local":
        params |= config.local.model_dump(exclude=_OPERATIONAL["local"])
    return PromptSet(
        backend.family,
        styles,
        prompt_dir=config.prompt_dir,
        domain=config.domain,
        examples=load_examples(config.examples) if config.examples else None,
        params=params,
        max_passage_chars=config.max_passage_chars or DEFAULT_PASSAGE_CHARS.get(backend.name, 2000),
    )


def plan_jobs(
    sample: Sequence[Chunk], chunks: Sequence[Chunk], config: GenerateConfig, backend: QueryBackend, prompts: PromptSet
) -> list[Job]:
    """The LLM calls for ``sample``: styles cycle over (chunk, sample) so every style gets its share of chunks.

    A multi-hop slot on a chunk with no neighbour in its document becomes a plain question.
    """
    docs = chunks_by_doc(chunks)
    styles = config.styles
    jobs = []
    for i, chunk in enumerate(sample):
        neighbour = _neighbour(chunk, docs) if "multihop" in styles else None
        wanted = [styles[(i + j) % len(styles)] for j in range(config.per_chunk)]
        wanted = ["question" if s == "multihop" and neighbour is None else s for s in wanted]
        for style, count in Counter(wanted).items():
            other = neighbour if style == "multihop" else None
            n = count if backend.family == "list" else 1
            phash = prompts.prompt_hash(style, n)
            chash = sha256_json([chunk.title, chunk.body, other.body if other else ""])
            messages = tuple(prompts.render(style, chunk.title, chunk.body, n, other.body if other else ""))
            related = (other.id,) if other else ()
            for sample_index in range(1 if backend.family == "list" else count):
                key = cache_key(chash, phash, backend.cache_id, sample_index)
                jobs.append(Job(ChatRequest(key, messages, n), chunk, style, phash, chash, sample_index, related))
    return jobs


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


def run_jobs(jobs: Sequence[Job], backend: QueryBackend, cache: GenerationCache) -> tuple[list[Query], LLMStats]:
    """Serve jobs from the cache, run the rest (each result cached as it arrives), and build the queries.

    With ``--ray-address`` (:func:`embedtune.scale.set_ray_address`) the calls still to make run on Ray actors
    (:func:`embedtune.scale.generate_on_ray`); their results land in the same cache, one by one, as here.
    """
    t0 = time.perf_counter()
    keys = list(dict.fromkeys(j.request.key for j in jobs))
    results = cache.get_many(keys)
    todo = {j.request.key: j for j in jobs if j.request.key not in results}
    stats = LLMStats(
        backend=backend.name, model=backend.model, chunks=len({j.chunk.id for j in jobs}),
        calls=len(keys), cached_calls=len(keys) - len(todo),
    )
    errors: Counter[str] = Counter()

    with progress_bar() as bar:
        task = bar.add_task(f"writing queries ({backend.name})", total=len(todo))

        def on_result(request: ChatRequest, result: ChatResult) -> None:
            job = todo[request.key]
            stats.prompt_tokens += result.prompt_tokens
            stats.completion_tokens += result.completion_tokens
            if result.error is not None:
                errors[result.error] += 1
            else:
                cache.put(
                    request.key, chunk_hash=job.chunk_hash, prompt_hash=job.prompt_hash, model=backend.cache_id,
                    sample=job.sample, queries=result.queries, prompt_tokens=result.prompt_tokens,
                    completion_tokens=result.completion_tokens,
                )
                results[request.key] = result.queries
                stats.new_calls += 1
                stats.short_replies += len(result.queries) < request.n
            bar.advance(task)

        requests = [j.request for j in todo.values()]
        if ray_address() is not None:  # --ray-address: the same calls, run by actors on the cluster
            from embedtune.querygen.backends.ray_generate import generate_on_ray

            generate_on_ray(backend, requests, on_result)
        else:
            backend.generate(requests, on_result)

    stats.failed_calls = sum(errors.values())
    stats.errors = dict(errors)
    stats.retries = backend.retries
    stats.seconds = round(time.perf_counter() - t0, 2)
    queries = [
        Query(
            id=query_id(j.chunk.id, j.style, backend.name, text), text=text, chunk_id=j.chunk.id,
            doc_id=j.chunk.doc_id, style=j.style, backend=backend.name, model=backend.model,
            prompt_hash=j.prompt_hash, related_chunk_ids=list(j.related),
        )
        for j in jobs
        for text in results.get(j.request.key, [])
    ]
    stats.queries = len(queries)
    return queries, stats


def _inputs(ws: Workspace, config: GenerateConfig) -> dict[str, str]:
    extra = [p for p in (getattr(config, name) for name in _INPUT_FILES) if p is not None]
    return {CHUNKS_FILE: sha256_file(ws.path(CHUNKS_FILE))} | fingerprint_paths(extra)


def _load(workspace: Workspace | str | Path) -> tuple[Workspace, list[Chunk]]:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    chunks = load_chunks(ws)
    if not chunks:
        raise EmbedtuneError(f"{ws.path(CHUNKS_FILE)} has no chunks; run `embedtune ingest` on some documents first")
    return ws, chunks


def _cached_keys(ws: Workspace, jobs: Sequence[Job]) -> set[str]:
    if not ws.path(CACHE_FILE).exists():
        return set()
    with GenerationCache(ws.path(CACHE_FILE)) as cache:
        return set(cache.get_many([j.request.key for j in jobs]))


def estimate_generation(
    workspace: Workspace | str | Path, config: GenerateConfig | None = None, *, backend: QueryBackend | None = None
) -> Estimate | None:
    """What the LLM part of :func:`generate_queries` would cost, without running anything (``--dry-run``)."""
    cfg = config or GenerateConfig()
    ws, chunks = _load(workspace)
    backend = backend or make_backend(cfg)
    if backend is None:
        return None
    jobs = plan_jobs(llm_sample(chunks, cfg.max_chunks, cfg.seed), chunks, cfg, backend, prompt_set(cfg, backend))
    return estimate(jobs, _cached_keys(ws, jobs), backend, cfg)


def _candidates(
    ws: Workspace, chunks: list[Chunk], sample: list[Chunk], cfg: GenerateConfig, backend: QueryBackend | None,
    offline_ids: set[str] | None = None,
) -> tuple[list[Query], LLMStats | None, Estimate | None]:
    """LLM queries for ``sample`` and offline-signal queries (for chunks in ``offline_ids``, default all)."""
    llm_queries: list[Query] = []
    stats = est = None
    if backend is not None and sample:
        jobs = plan_jobs(sample, chunks, cfg, backend, prompt_set(cfg, backend))
        with GenerationCache(ws.path(CACHE_FILE)) as cache:
            est = estimate(jobs, set(cache.get_many([j.request.key for j in jobs])), backend, cfg)
            console.print(format_estimate(est, backend), highlight=False)
            llm_queries, stats = run_jobs(jobs, backend, cache)
        if backend.name == "openai":
            o = cfg.openai
            stats.cost_usd = (stats.prompt_tokens * o.price_in + stats.completion_tokens * o.price_out) / 1e6
    offline = offline_queries(chunks, cfg.signals, seed=cfg.seed)
    if offline_ids is not None:
        offline = [q for q in offline if q.chunk_id in offline_ids]
    return llm_queries + offline, stats, est


def generate_queries(
    workspace: Workspace | str | Path,
    config: GenerateConfig | None = None,
    *,
    force: bool = False,
    backend: QueryBackend | None = None,
    retriever: Retriever | None = None,
    encoder: Any = None,
) -> QuerygenReport:
    """Write ``queries.jsonl``, ``querygen_rejected.jsonl`` and ``querygen_report.json`` into ``workspace``.

    Skips when the stage is current (same chunks, config and prompts) unless ``force``; a run whose LLM calls
    partly failed is never current, so rerunning retries just those. ``backend``, ``retriever`` and ``encoder``
    override what the config would build (for tests and custom setups).
    """
    cfg = config or GenerateConfig()
    t0 = time.perf_counter()
    ws, chunks = _load(workspace)
    backend = backend or make_backend(cfg)
    inputs = _inputs(ws, cfg)
    params = cfg.stage_params()
    if backend is not None:
        prompts = prompt_set(cfg, backend)
        # Template edits (e.g. in --prompt-dir) make the stage stale; n is fixed by per_chunk, already in params.
        params["prompts"] = {s: prompts.prompt_hash(s, 0) for s in prompts.templates}
        params["generator"] = backend.cache_id
    record = ws.stage_record(STAGE)
    if (
        not force and ws.is_current(STAGE, inputs, params) and ws.path(REPORT_FILE).exists()
        and record is not None and not record.summary.get("failed_calls")
    ):
        console.print(f"generate is current, skipping ({ws.path(QUERIES_FILE)})", highlight=False)
        return QuerygenReport.model_validate_json(ws.path(REPORT_FILE).read_text(encoding="utf-8"))

    eval_texts = read_query_texts(cfg.eval_queries) if cfg.eval_queries else []
    with ws.stage(STAGE, inputs, params) as run:
        sample = llm_sample(chunks, cfg.max_chunks, cfg.seed) if backend is not None else []
        candidates, stats, est = _candidates(ws, chunks, sample, cfg, backend)
        result = apply_filters(
            candidates, chunks, cfg.filters, eval_queries=eval_texts, retriever=retriever, encoder=encoder
        )
        if cfg.labelled is not None:
            human, missing = labelled_queries(chunks, cfg.labelled, cfg.labelled_split)
            if missing:
                console.print(f"{cfg.labelled}: {missing:,} labelled documents are not in the corpus, skipped")
            checked = apply_filters(human, chunks, _human_filters(cfg.filters), eval_queries=eval_texts, encoder=encoder)
            candidates = candidates + human
            result.kept += checked.kept
            result.rejected += checked.rejected
            result.contamination += checked.contamination
        write_jsonl(run.add_output(QUERIES_FILE), (q.model_dump(mode="json") for q in result.kept))
        write_jsonl(
            run.add_output(REJECTED_FILE),
            ({**q.model_dump(mode="json"), "dropped_by": reason} for q, reason in result.rejected),
        )
        report = QuerygenReport.count(
            candidates, result.kept, result.rejected, chunks=len(chunks), llm=stats, estimate=est,
            signals=cfg.signals, contamination=result.contamination,
            round_trip=_round_trip_label(cfg.filters, retriever),
        )
        report.seconds = round(time.perf_counter() - t0, 2)
        write_json(run.add_output(REPORT_FILE), report.model_dump(mode="json"))
        run.record.summary = {
            "candidates": len(candidates), "kept": len(result.kept),
            "failed_calls": stats.failed_calls if stats else 0,
        }
    return report


def _human_filters(filters: FilterConfig) -> FilterConfig:
    """Real queries are what the synthetic filters try to imitate: only duplicates and eval contamination apply."""
    return filters.model_copy(update={
        "min_chars": 1, "min_words": 1, "max_words": 10_000, "drop_meta": False, "copy_threshold": None,
        "round_trip": "none", "near_duplicate": None,
    })


def load_queries(workspace: Workspace | str | Path) -> list[Query]:
    """The queries the ``generate`` stage kept, from ``<workspace>/queries.jsonl``."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    path = ws.path(QUERIES_FILE)
    if not path.exists():
        raise EmbedtuneError(f"{path}: no synthetic queries yet; run `embedtune generate --workspace {ws.root}` first")
    return [Query.model_validate(row) for row in read_jsonl(path)]


def _round_trip_label(filters: FilterConfig, retriever: Retriever | None) -> str:
    if filters.round_trip == "none":
        return "off"
    name = retriever.name if retriever is not None else filters.round_trip
    return f"{name}, passage in top-{filters.round_trip_k}"


@dataclass
class PreviewRow:
    """One sampled chunk with its candidate queries and what the filters said about each."""

    chunk: Chunk
    queries: list[tuple[Query, str]]


def preview_queries(
    workspace: Workspace | str | Path,
    config: GenerateConfig | None = None,
    n: int = 20,
    *,
    backend: QueryBackend | None = None,
    retriever: Retriever | None = None,
    encoder: Any = None,
) -> list[PreviewRow]:
    """Generate and filter queries for ``n`` chunks only, to judge quality before paying for a full run.

    The chunks are the first ``n`` of the full run's sample, and LLM results are cached, so a full run later
    reuses them. Writes no queries file and no stage record. Verdicts: ``kept`` or the dropping filter's name.
    """
    cfg = config or GenerateConfig()
    ws, chunks = _load(workspace)
    backend = backend or make_backend(cfg)
    sample = llm_sample(chunks, n, cfg.seed)
    ids = {c.id for c in sample}
    candidates, _, _ = _candidates(ws, chunks, sample if backend else [], cfg, backend, offline_ids=ids)
    eval_texts = read_query_texts(cfg.eval_queries) if cfg.eval_queries else []
    result = apply_filters(candidates, chunks, cfg.filters, eval_queries=eval_texts, retriever=retriever, encoder=encoder)
    verdicts = {id(q): "kept" for q in result.kept} | {id(q): reason for q, reason in result.rejected}
    return [PreviewRow(c, [(q, verdicts[id(q)]) for q in candidates if q.chunk_id == c.id]) for c in sample]
