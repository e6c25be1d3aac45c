"""``POST /feedback``: append one validated impression/click record to the feedback log."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends

from embedtune.serving.errors import ApiError
from embedtune.serving.feedback import FeedbackRequest, FeedbackResponse, record_of
from embedtune.serving.limits import check_texts
from embedtune.serving.state import ServingState, serving_state

router = APIRouter()


@router.post("/feedback", response_model=FeedbackResponse)
async def feedback(body: FeedbackRequest, state: Annotated[ServingState, Depends(serving_state)]) -> FeedbackResponse:
    """Record what was shown for a query and what was clicked (format: :mod:`embedtune.feedback.log`).

    With a remembered ``search_id``, the version, arm, teams and swap are the server's, not the client's.
    """
    if state.feedback is None:
        raise ApiError(404, "feedback logging is off; start the server with a feedback_log file")
    check_texts([body.query], state.config, param="query")
    seen = state.impressions.get(body.search_id)
    if seen is not None:
        try:
            record = record_of(body, seen.index, arm=seen.arm, swap=seen.swap, experiment=seen.experiment,
                               teams=seen.teams, user=seen.user, session=seen.session)
        except ValueError as e:  # e.g. the remembered swap names a position the client did not report
            raise ApiError(422, f"search_id {body.search_id}: {e}", param="results") from None
    else:
        index = body.index or state.live.current.name
        if body.index is not None and body.index != state.live.current.name:
            known = await asyncio.to_thread(state.live.versions)
            if body.index not in known:
                raise ApiError(404, f"unknown index version {body.index!r}", param="index", code="index_not_found")
        record = record_of(body, index, experiment=state.traffic.experiment if body.arm else None)
    await asyncio.to_thread(state.feedback.append, record)
    return FeedbackResponse(index=record.index or "", received_at=record.received_at)
