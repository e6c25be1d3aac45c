"""``/docs`` and ``/openapi.json``: open without an API key; behind it when one is set (unless ``--public-docs``).

The schema lists every route and limit of the server; a server that asks for a key should not hand that to
anyone who asks. Protected, they need the same ``Authorization: Bearer`` header as the API (the Swagger page
itself then loads only for clients that send it, e.g. a browser extension or a proxy adding the header).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.params import Depends
from fastapi.responses import HTMLResponse, JSONResponse

OPENAPI_URL = "/openapi.json"


def docs_urls(open_docs: bool) -> dict[str, Any]:
    """FastAPI's own docs settings: its routes when the docs are open, none when they are protected."""
    return {} if open_docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}


def add_protected_docs(app: FastAPI, protected: list[Depends]) -> None:
    """Serve the schema and the Swagger page behind ``protected`` (the API key check)."""

    @app.get(OPENAPI_URL, include_in_schema=False, dependencies=protected)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=protected)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{app.title} - docs")
