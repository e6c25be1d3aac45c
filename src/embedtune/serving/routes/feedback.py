"""``POST /feedback``: append one validated impression/click record to the feedback log."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends

from embedtune.serving.errors import ApiError
from embedtune.serving.feedback import FeedbackRecord, FeedbackRequest, FeedbackResponse
from embedtune.serving.limits import check_texts
from embedtune.serving.state import ServingState, serving_state

router = APIRouter()


@router.post("/feedback", response_model=FeedbackResponse)
async def feedback(body: FeedbackRequest, state: Annotated[ServingState, Depends(serving_state)]) -> FeedbackResponse:
    """Record what was shown for a query and what was clicked (format: :mod:`embedtune.serving.feedback`)."""
    if state.feedback is None:
        raise ApiError(404, "feedback logging is off; start the server with --feedback-log FILE")
    check_texts([body.query], state.config, param="query")
    index = body.index or state.live.current.name
    if body.index is not None and body.index != state.live.current.name:
        known = await asyncio.to_thread(state.live.versions)
        if body.index not in known:
            raise ApiError(404, f"unknown index version {body.index!r}", param="index", code="index_not_found")
    record = FeedbackRecord.of(body, index)
    await asyncio.to_thread(state.feedback.append, record)
    return FeedbackResponse(index=index, received_at=record.received_at)
