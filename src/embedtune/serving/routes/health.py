"""``GET /health``: which version, model and dimension are being served (no API key needed).

The model is named by its content hash, never by its folder: an open endpoint should not tell the world the
server's file layout (user names, mount points).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from embedtune.serving.schemas import HealthResponse
from embedtune.serving.state import ServingState, serving_state

router = APIRouter()


@router.get("/health", response_model=HealthResponse)
async def health(state: Annotated[ServingState, Depends(serving_state)]) -> HealthResponse:
    """The served version's metadata; ``live_error`` says why a newer live version is not served yet."""
    runtime = state.live.current
    meta = runtime.meta
    return HealthResponse(
        index=meta.name, follows_live=state.config.follows_live, backend=meta.backend,
        model_hash=meta.model_hash, dim=meta.dim, model_dim=runtime.model_dim, normalized=meta.normalized,
        count=meta.count, live_error=state.live.live_error,
    )
