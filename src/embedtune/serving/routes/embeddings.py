"""``POST /v1/embeddings``: OpenAI's embeddings API, so the official clients work by changing ``base_url``."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends

from embedtune.serving.limits import check_dimensions, check_texts
from embedtune.serving.schemas import (
    EmbeddingData,
    EmbeddingRequest,
    EmbeddingResponse,
    Usage,
)
from embedtune.serving.state import ServingState, serving_state

router = APIRouter()


def _encode(vector: np.ndarray, encoding_format: str) -> list[float] | str:
    """A vector as OpenAI sends it: floats, or base64 of its little-endian float32 bytes."""
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return vector.tolist()


@router.post("/v1/embeddings", response_model=EmbeddingResponse)
async def create_embeddings(
    body: EmbeddingRequest, state: Annotated[ServingState, Depends(serving_state)]
) -> EmbeddingResponse:
    """Embed one text or a batch with the model of the served index version (or of the version ``model``
    names): L2-normalised, cut to ``dimensions`` and renormalised when asked."""
    texts = body.texts
    check_texts(texts, state.config)
    live = state.live
    current = live.current
    runtime = current if body.model in ("live", current.name) else await asyncio.to_thread(live.get, body.model)
    check_dimensions(body.dimensions, runtime.model_dim, runtime.name)
    embedded = await state.workers.run(
        runtime.embed, texts, body.dimensions, body.input_type, max_tokens=state.config.max_tokens
    )
    data = [
        EmbeddingData(index=i, embedding=_encode(vector, body.encoding_format))
        for i, vector in enumerate(embedded.vectors)
    ]
    usage = Usage(prompt_tokens=embedded.tokens, total_tokens=embedded.tokens)
    return EmbeddingResponse(data=data, model=runtime.name, usage=usage)
