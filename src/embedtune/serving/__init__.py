"""Serve an index store over HTTP: OpenAI-compatible ``/v1/embeddings``, ``/search``, ``/health``, ``/feedback``.

The server follows the store's ``live`` alias, so promoting or rolling back a version (from any process)
takes effect within about a second, without a restart. See :func:`create_app` and ``embedtune serve``.
"""

from embedtune.serving.app import create_app
from embedtune.serving.background import BackgroundServer
from embedtune.serving.config import ServeConfig

__all__ = ["BackgroundServer", "ServeConfig", "create_app"]
