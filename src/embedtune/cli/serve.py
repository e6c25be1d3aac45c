"""``embedtune serve``: an HTTP server over an index store (OpenAI-compatible embeddings, search, feedback)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from embedtune.cli.options import InferenceOpt, make_runner, quiet_libraries

from embedtune.errors import EmbedtuneError

LIMITS = "Limits"
EXPERIMENT = "Experiments (A/B, exploration)"


def _opt(*names: str, text: str, panel: str | None = None):
    return typer.Option(*names, help=text, rich_help_panel=panel)


def serve_command(
    store: Annotated[str, _opt("--store", text="Index store: a folder (LanceDB, milvus-lite) or a Milvus URL.")],
    index: Annotated[str, _opt(
        "--index", text="Version to serve; 'live' follows the live alias (promote/rollback apply without restart).")
    ] = "live",
    backend: Annotated[str | None, _opt(
        "--backend", text="lancedb or milvus (default: the one the store was created with).")] = None,
    model: Annotated[str | None, _opt(
        "--model", text="Model folder to use when a version's recorded one moved (its content hash is checked).")
    ] = None,
    host: Annotated[str, _opt("--host", text="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, _opt("--port", text="Port to listen on.")] = 8000,
    api_key_env: Annotated[str | None, _opt(
        "--api-key-env", text="Environment variable holding the API key clients must send as a Bearer token.")
    ] = None,
    max_batch: Annotated[int, _opt("--max-batch", text="Most inputs per embeddings request.", panel=LIMITS)] = 256,
    max_chars: Annotated[int, _opt("--max-chars", text="Most characters per input or query.", panel=LIMITS)] = 8192,
    max_tokens: Annotated[int, _opt(
        "--max-tokens", text="Most tokens the model reads for one embeddings request (inputs counted up to the "
        "model's sequence limit).", panel=LIMITS)] = 32_768,
    concurrency: Annotated[int, _opt(
        "--concurrency", text="Encode jobs, and separately search jobs, running at once (others wait).",
        panel=LIMITS)] = 4,
    max_queue: Annotated[int, _opt(
        "--max-queue", text="Requests that may wait for a worker (per lane); more get 429 with Retry-After.",
        panel=LIMITS)] = 64,
    queue_timeout: Annotated[float, _opt(
        "--queue-timeout", text="Seconds a request may wait for a worker before it gets 503 with Retry-After.",
        panel=LIMITS)] = 30.0,
    public_docs: Annotated[bool, _opt(
        "--public-docs", text="Leave /docs and /openapi.json open when an API key is set (they need it by default).")
    ] = False,
    feedback_log: Annotated[Path | None, _opt(
        "--feedback-log", text="JSON-lines file POST /feedback appends to (off when not given).")] = None,
    poll_interval: Annotated[float, _opt(
        "--poll-interval", text="Seconds between checks of the live alias.")] = 1.0,
    explore_rate: Annotated[float, _opt(
        "--explore-rate", text="Share of searches with one random adjacent pair of results swapped (and logged), "
        "to measure position bias.", panel=EXPERIMENT)] = 0.0,
    ab: Annotated[str | None, _opt(
        "--ab", text="A/B test two versions: NAME_A,NAME_B (A = control).", panel=EXPERIMENT)] = None,
    ab_split: Annotated[float, _opt(
        "--ab-split", text="split mode: share of users (sticky by user/session id) on arm B.", panel=EXPERIMENT)] = 0.5,
    ab_mode: Annotated[str, _opt(
        "--ab-mode", text="split (one arm per user) or interleave (team-draft, both arms in every list).",
        panel=EXPERIMENT)] = "split",
    seed: Annotated[int | None, _opt(
        "--seed", text="Seed of the exploration and interleaving coins.", panel=EXPERIMENT)] = None,
    inference: InferenceOpt = None,
) -> None:
    """Serve an index store over HTTP: /v1/embeddings (OpenAI-compatible), /search, /health, /feedback."""
    import uvicorn

    from embedtune.serving import ServeConfig, create_app

    api_key = None
    if api_key_env is not None:
        api_key = os.environ.get(api_key_env, "")
        if not api_key.strip():
            raise EmbedtuneError(f"--api-key-env {api_key_env}: that environment variable is not set or is empty")
    config = ServeConfig(
        store=store, index=index, backend=backend, model=model, api_key=api_key,
        max_batch=max_batch, max_chars=max_chars, max_tokens=max_tokens, concurrency=concurrency,
        max_queue=max_queue, queue_timeout=queue_timeout, public_docs=public_docs, feedback_log=feedback_log,
        poll_interval=poll_interval, explore_rate=explore_rate, ab=_arms(ab), ab_split=ab_split,
        ab_mode=ab_mode, seed=seed,  # type: ignore[arg-type]
        inference=make_runner(inference).inference,  # query encoding; index vectors were made by the build's backend
    )
    _quiet_libraries()
    app = create_app(config)  # a bad store, index or model fails here, before the port is bound
    current = app.state.serving.live.current
    following = "following the live alias" if config.follows_live else "pinned"
    typer.echo(
        f"serving index version {current.name!r} ({following}; model {current.meta.model_path}, dim "
        f"{current.meta.dim}, {current.meta.count:,} chunks) at http://{host}:{port}"
        + (" (API key required)" if api_key else "")
        + (f"; A/B {config.ab_mode} {config.ab[0]} vs {config.ab[1]}" if config.ab else "")
        + (f"; exploring {config.explore_rate:.0%} of searches" if config.explore_rate else "")
    )
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def _arms(spec: str | None) -> tuple[str, str] | None:
    if spec is None:
        return None
    names = tuple(n.strip() for n in spec.split(","))
    if len(names) != 2 or not all(names):
        raise EmbedtuneError(f"--ab {spec!r}: give two version names, NAME_A,NAME_B")
    return names  # type: ignore[return-value]


def _quiet_libraries() -> None:
    """Model loads print nothing; our own swap messages reach the terminal as uvicorn's do."""
    quiet_libraries()
    log = logging.getLogger("embedtune.serving")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
