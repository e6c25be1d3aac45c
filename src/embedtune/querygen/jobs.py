"""The LLM part of generation: which chunks get LLM queries, the calls (jobs) for them, and running the calls.

Styles cycle over the sampled chunks so each gets its share; every call is keyed by chunk, prompt, model and
sample, and its result cached the moment it arrives, so a killed run resumes and a rerun pays nothing.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from embedtune.querygen.backends import ChatRequest, ChatResult, QueryBackend
from embedtune.querygen.backends.offline_signals import chunks_by_doc
from embedtune.querygen.cache import GenerationCache, cache_key
from embedtune.querygen.config import FORMAT, OPERATIONAL_OPTIONS, GenerateConfig
from embedtune.querygen.prompts import PromptSet, load_examples
from embedtune.querygen.query import Query, query_id
from embedtune.querygen.report import LLMStats
from embedtune.hashing import sha256_json
from embedtune.progress import progress_bar
from embedtune.workspace.rows import Chunk

DEFAULT_PASSAGE_CHARS = {"local": 900, "openai": 4000}  # tiny models lose the thread on long prompts


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
        params |= config.local.model_dump(exclude=OPERATIONAL_OPTIONS["local"])
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


def run_jobs(jobs: Sequence[Job], backend: QueryBackend, cache: GenerationCache, *,
             ray_address: str | None = None) -> tuple[list[Query], LLMStats]:
    """Serve jobs from the cache, run the rest (each result cached as it arrives), and build the queries.

    With a ``ray_address`` (``--ray-address``) the calls still to make run on Ray actors
    (:func:`embedtune.querygen.backends.ray_generate.generate_on_ray`); their results land in the same cache,
    one by one, as here.
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
        if ray_address is not None:  # the same calls, run by actors on the cluster
            from embedtune.querygen.backends.ray_generate import generate_on_ray

            generate_on_ray(backend, requests, on_result, address=ray_address)
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
