"""Every error the server returns is JSON in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``.

OpenAI clients read ``error.message`` into their exceptions, so a user of the official client sees our reason
rather than a bare status. No handler ever returns a traceback: an EmbedtuneError while serving (the store
or a model failing) is a 503 with its one-line message, and unexpected exceptions are logged server-side and
answered with a 500 that says only that the server failed.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from embedtune.errors import EmbedtuneError

log = logging.getLogger("embedtune.serving")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "request_too_large",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An error answered to the client as-is: its status, its message, and an OpenAI-style type."""

    def __init__(
        self, status: int, message: str, type: str | None = None, *, param: str | None = None,
        code: str | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.headers = status, message, param, code, headers
        self.type = type or _TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")


def error_response(error: ApiError) -> JSONResponse:
    """The JSON response for ``error``."""
    body = {"error": {"message": error.message, "type": error.type, "param": error.param, "code": error.code}}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    """One readable line for the first problem, and the field it concerns (``input``, ``k``, ...)."""
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        return f"the request body is not valid JSON ({reason})", None
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    # Pydantic names the union member it tried ("str", "list[str]"); users need only the field path.
    loc = [p for p in loc if p not in ("str", "int") and "[" not in p]
    where = ".".join(loc)
    msg = first.get("msg", "invalid value").removeprefix("Value error, ")
    if first.get("type") == "missing":
        msg = "this field is required"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return (f"{where}: {msg}{suffix}" if where else f"{msg}{suffix}"), (where or None)


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through :func:`error_response`."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        status = 400 if exc.errors()[0].get("type") == "json_invalid" else 422
        return error_response(ApiError(status, message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        return error_response(ApiError(exc.status_code, detail, headers=getattr(exc, "headers", None)))

    @app.exception_handler(EmbedtuneError)
    async def _environment(request: Request, exc: EmbedtuneError) -> JSONResponse:
        # Requests are validated before any work, so what remains is the store or model failing under us.
        return error_response(ApiError(503, str(exc)))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response(ApiError(500, "internal server error (see the server log)", "server_error"))
