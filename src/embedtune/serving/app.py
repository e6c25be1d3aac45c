"""The FastAPI app: OpenAI-compatible embeddings, search, health and feedback over one index store."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI

from embedtune.index.base import IndexStore
from embedtune.serving.auth import api_key_check
from embedtune.serving.body_limit import BodyLimitMiddleware
from embedtune.serving.config import ServeConfig
from embedtune.serving.docs import add_protected_docs, docs_urls
from embedtune.serving.errors import install_error_handlers
from embedtune.serving.experiment import Traffic
from embedtune.serving.feedback import FeedbackLog
from embedtune.serving.impressions import ImpressionMemory
from embedtune.serving.live import LiveIndex
from embedtune.serving.routes import embeddings, feedback, health, search
from embedtune.serving.state import ServingState
from embedtune.serving.workers import Workers


def create_app(config: ServeConfig, store: IndexStore | None = None) -> FastAPI:
    """An app serving ``config.index`` of ``config.store`` (or of ``store``, an already open store).

    The first version and its model are loaded here (and both arms of an A/B test), so a bad store, index or
    model fails at startup with an EmbedtuneError rather than on the first request.
    """
    if store is None:
        from embedtune.index import open_store

        store = open_store(config.store, backend=config.backend)
    state = ServingState(
        config=config,
        live=LiveIndex(store, config),
        workers=Workers(config.concurrency, config.max_queue, config.queue_timeout, name="embeddings"),
        search_workers=Workers(config.concurrency, config.max_queue, config.queue_timeout, name="search"),
        feedback=FeedbackLog(config.feedback_log) if config.feedback_log is not None else None,
        traffic=Traffic(config),
        impressions=ImpressionMemory(config.remember_searches),
    )
    for arm in config.ab or ():
        state.live.load(arm)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        follower = asyncio.create_task(state.live.follow()) if config.follows_live else None
        try:
            yield
        finally:
            if follower is not None:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
            state.workers.close()
            state.search_workers.close()

    open_docs = config.api_key is None or config.public_docs
    app = FastAPI(
        title="embedtune",
        summary="Embeddings and search over a fine-tuned model's vector index.",
        lifespan=lifespan,
        **docs_urls(open_docs),
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    app.state.serving = state
    install_error_handlers(app)
    protected = [Depends(api_key_check(config.api_key))]
    app.include_router(embeddings.router, dependencies=protected, tags=["openai"])
    app.include_router(search.router, dependencies=protected, tags=["search"])
    app.include_router(feedback.router, dependencies=protected, tags=["feedback"])
    app.include_router(health.router, tags=["ops"])
    if not open_docs:
        add_protected_docs(app, protected)
    return app
