"""What the routes share: settings, the served index, the worker pool, the feedback log, the experiment."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from embedtune.serving.config import ServeConfig
from embedtune.serving.experiment import Traffic
from embedtune.serving.feedback import FeedbackLog
from embedtune.serving.impressions import ImpressionMemory
from embedtune.serving.live import LiveIndex
from embedtune.serving.workers import Workers


@dataclass
class ServingState:
    """Everything a request needs beyond its own body (one per app, on ``app.state.serving``)."""

    config: ServeConfig
    live: LiveIndex
    workers: Workers  # embeddings
    search_workers: Workers  # a lane of its own, so big embedding batches never hold up a search
    feedback: FeedbackLog | None
    traffic: Traffic
    impressions: ImpressionMemory


def serving_state(request: Request) -> ServingState:
    """FastAPI dependency: the app's :class:`ServingState`."""
    return request.app.state.serving
