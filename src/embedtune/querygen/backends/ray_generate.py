"""LLM query writing on a Ray cluster: Ray Data ``map_batches`` over an actor pool, each actor holding the backend.

What it optimises: wall time of the ``generate`` stage's LLM calls with a local model (SmolLM2 and the like),
about one query per second per two CPU cores, so a sample of tens of thousands of chunks takes a day on one
machine. Each actor holds its own copy of the query backend (a local model loads once per actor, on its first
block; the OpenAI-compatible client opens its own connections) and runs whole blocks of requests through the
backend's own ``generate``, so batching, parsing and retries are exactly the local ones.

It has the contract of :meth:`QueryBackend.generate`: ``on_result`` is called on the driver for every request, as
its block comes back, so :func:`embedtune.querygen.jobs.run_jobs` caches each result the moment it arrives
(a kill loses at most the blocks in flight) and writes the same cache rows and ``queries.jsonl`` as a local run;
a rerun without Ray is all cache hits. Greedy decoding (temperature 0) writes the same queries as a local run;
sampled ones differ the way a resumed local run's do (the seed stream depends on how calls are batched).

When to use it: a local generator over many chunks, with a Ray cluster (``--ray-address``). An OpenAI-compatible
endpoint does its work on the server, so Ray adds nothing there but one actor holding the client (one actor by
default, so ``--concurrency`` and ``--rpm`` hold as set). Workers need embedtune installed and the generator
folder at the same path; nothing is downloaded.
Reference: https://docs.ray.io/en/latest/data/api/doc/ray.data.Dataset.map_batches.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.querygen.backends.base import ChatRequest, ChatResult, OnResult, QueryBackend
from embedtune.scale import actor_pool, connect_ray, ray_failure


class _GeneratorActor:
    """One Ray actor: its own copy of the backend, which runs each block of requests it is sent."""

    def __init__(self, backend: QueryBackend) -> None:
        self.backend = backend  # a local model loads lazily, on the first block

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        requests = [ChatRequest(str(k), tuple(json.loads(str(m))), int(n))
                    for k, m, n in zip(batch["key"], batch["messages"], batch["n"])]
        results: dict[str, ChatResult] = {}
        retries_before = self.backend.retries
        fatal = ""
        try:
            self.backend.generate(requests, lambda request, result: results.__setitem__(request.key, result))
        except EmbedtuneError as e:
            # Sent back as data, not raised: Ray would wrap it in pages of traceback, and the calls that did
            # finish before it are still worth caching.
            fatal = str(e)
        done = [results.get(r.key) for r in requests]
        retries = np.zeros(len(requests), dtype=np.int64)
        retries[0] = self.backend.retries - retries_before  # the block's retries, counted once
        return {
            "key": np.array([r.key for r in requests], dtype=object),
            "done": np.array([res is not None for res in done]),
            "queries": np.array([json.dumps(res.queries if res else []) for res in done], dtype=object),
            "prompt_tokens": np.array([res.prompt_tokens if res else 0 for res in done], dtype=np.int64),
            "completion_tokens": np.array([res.completion_tokens if res else 0 for res in done], dtype=np.int64),
            "error": np.array([(res.error or "") if res else "" for res in done], dtype=object),
            "retries": retries,
            "fatal": np.array([fatal] * len(requests), dtype=object),
        }


def generate_on_ray(
    backend: QueryBackend,
    requests: Sequence[ChatRequest],
    on_result: OnResult,
    *,
    block_size: int = 32,
    cpus_per_actor: int = 1,
    num_actors: int | None = None,
    address: str | None = None,
) -> None:
    """Run ``requests`` through copies of ``backend`` held by Ray actors; ``on_result`` as each block returns.

    The drop-in for ``backend.generate(requests, on_result)`` when ``--ray-address`` is set. A backend error no
    retry can fix (a bad API key, a generator that does not load) is raised here as the same one-line
    :class:`EmbedtuneError`, after the results that came back before it were passed on.

    Args:
        backend: the query backend; pickled to every actor as it is (one built by ``make_backend`` has loaded
            nothing yet, so only its settings travel).
        requests: the calls to make; blocks are cut in this order, so the sample indices of one prompt (adjacent
            in :func:`embedtune.querygen.jobs.plan_jobs`) go to the same actor and get distinct samples.
        on_result: called on the driver once per request, in the order blocks finish.
        block_size: requests per Ray task: the unit of scheduling and of loss on a kill.
        cpus_per_actor: CPUs reserved per actor (Ray caps its torch threads to them).
        num_actors: actors in the pool; None: one for an OpenAI-compatible endpoint (its rate and concurrency
            caps are per client), else the cluster's CPUs / ``cpus_per_actor``.
        address: Ray address (None: a local instance); ignored if Ray is initialised.
    """
    if not requests:
        return
    import ray

    connect_ray(address)
    n_blocks = -(-len(requests) // block_size)
    if num_actors is None and backend.name == "openai":
        num_actors = 1  # its rate and concurrency caps are per client
    by_key = {r.key: r for r in requests}
    items = [{"key": r.key, "messages": json.dumps(r.messages), "n": r.n} for r in requests]
    context = ray.data.DataContext.get_current()
    shown = context.enable_progress_bars
    # The caller's bar counts the calls; off for this dataset only (it keeps the context it was built in).
    context.enable_progress_bars = False
    try:
        written = ray.data.from_items(items, override_num_blocks=n_blocks).map_batches(
            # batch_size=None: one call per block as cut above (<= block_size requests, in plan order), never merged.
            _GeneratorActor, fn_constructor_kwargs={"backend": backend}, batch_size=None, batch_format="numpy",
            compute=actor_pool(cpus_per_actor, n_blocks, num_actors), num_cpus=cpus_per_actor,
        )
    finally:
        context.enable_progress_bars = shown
    try:
        for batch in written.iter_batches(batch_size=None, batch_format="numpy"):  # whole blocks, as they finish
            backend.retries += int(batch["retries"].sum())
            for i, key in enumerate(batch["key"]):
                if batch["done"][i]:
                    on_result(by_key[str(key)], ChatResult(
                        queries=json.loads(str(batch["queries"][i])), prompt_tokens=int(batch["prompt_tokens"][i]),
                        completion_tokens=int(batch["completion_tokens"][i]), error=str(batch["error"][i]) or None,
                    ))
            if fatal := next((str(f) for f in batch["fatal"] if f), ""):
                raise EmbedtuneError(fatal)
    except ray.exceptions.RayError as e:  # an actor that died (out of memory, a lost node) after Ray's retries
        raise ray_failure(e) from None
