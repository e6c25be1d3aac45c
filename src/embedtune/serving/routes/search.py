"""``POST /search``: top-k chunks of the served index version, dense or hybrid (BM25 + dense, RRF)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends

from embedtune.serving.limits import check_k, check_texts
from embedtune.serving.schemas import SearchHit, SearchRequest, SearchResponse
from embedtune.serving.state import ServingState, serving_state

router = APIRouter()


@router.post("/search", response_model=SearchResponse)
async def search(body: SearchRequest, state: Annotated[ServingState, Depends(serving_state)]) -> SearchResponse:
    """Encode the query with the version's own model at its stored dim, then search that version."""
    check_texts([body.query], state.config, param="query")
    check_k(body.k, state.config)
    live = state.live
    runtime = live.current if body.index is None else await asyncio.to_thread(live.get, body.index)
    hits = await state.workers.run(runtime.search, body.query, body.k, body.mode)
    return SearchResponse(
        index=runtime.name, mode=body.mode,
        hits=[
            SearchHit(
                id=h.id, doc_id=h.doc_id, score=h.score, text=h.text, duplicate_doc_ids=list(h.duplicate_doc_ids)
            )
            for h in hits
        ],
    )
