"""Cap the bytes of a request body, answering 413 with the server's JSON error body.

FastAPI's own ``max_body_size`` answers a declared oversize body (``Content-Length``) in plain text, whatever
the app's error handlers say, and OpenAI clients then show no reason. This middleware refuses such a body
before reading it, and counts the bytes of bodies sent without a length (chunked), raising an
``HTTPException(413)`` mid-read that the app's handlers turn into JSON.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embedtune.serving.errors import ApiError, error_response


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes (max_batch x max_chars)"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body without a declared length passes the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a JSON 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(ApiError(413, _too_large(self.max_bytes), code="body_too_large"))
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
