"""Optional API key: ``Authorization: Bearer <key>``, as OpenAI clients send their ``api_key``.

The key comes from an environment variable named on the command line (``--api-key-env``), never from the
command line itself, where other users could read it in the process list. ``/health`` stays open so load
balancers and probes need no secret.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from embedtune.serving.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="The server's API key (only when started with --api-key-env).")


class Unauthorized(ApiError):
    """401 with the ``WWW-Authenticate`` challenge."""

    def __init__(self, message: str) -> None:
        super().__init__(401, message, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


def api_key_check(expected: str | None) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency accepting requests with the key ``expected`` (every request when it is None)."""

    async def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
        if expected is None:
            return
        if credentials is None:
            raise Unauthorized("missing API key: send the header 'Authorization: Bearer <key>'")
        if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
            raise Unauthorized("incorrect API key")

    return check
