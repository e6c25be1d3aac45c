"""``POST /search``: top-k chunks of the served index version, dense or hybrid (BM25 + dense, RRF).

With an A/B test (``--ab A,B``) a search without an explicit ``index`` goes to the user's arm (split) or to a
team-draft interleaving of both arms; with ``--explore-rate`` some answers have one adjacent pair swapped.
Each answer carries a ``search_id`` the server remembers, for ``/feedback``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from embedtune.serving.experiment import Shown
from embedtune.serving.impressions import Impression
from embedtune.serving.limits import check_k, check_texts
from embedtune.serving.schemas import SearchHit, SearchRequest, SearchResponse
from embedtune.serving.state import ServingState, serving_state

router = APIRouter()


async def _shown(body: SearchRequest, state: ServingState, search_id: str) -> Shown:
    """What to show: the requested or served version, or the A/B test's choice."""
    live, traffic = state.live, state.traffic
    ab = state.config.ab
    if ab is None or body.index is not None:
        runtime = live.current if body.index is None else await asyncio.to_thread(live.get, body.index)
        return Shown(runtime.name, await state.search_workers.run(runtime.search, body.query, body.k, body.mode))
    if state.config.ab_mode == "split":
        arm = traffic.arm_for(body.user or body.session or search_id)
        runtime = await asyncio.to_thread(live.get, arm)
        hits = await state.search_workers.run(runtime.search, body.query, body.k, body.mode)
        return Shown(runtime.name, hits, arm=arm, experiment=traffic.experiment)
    a = await asyncio.to_thread(live.get, ab[0])
    b = await asyncio.to_thread(live.get, ab[1])
    hits_a, hits_b = await asyncio.gather(
        state.search_workers.run(a.search, body.query, body.k, body.mode),
        state.search_workers.run(b.search, body.query, body.k, body.mode),
    )
    hits, teams = traffic.interleave(hits_a, hits_b, body.k)
    return Shown(a.name, hits, teams=teams, experiment=traffic.experiment)


@router.post("/search", response_model=SearchResponse)
async def search(body: SearchRequest, state: Annotated[ServingState, Depends(serving_state)]) -> SearchResponse:
    """Encode the query with the version's own model at its stored dim, then search that version."""
    check_texts([body.query], state.config, param="query")
    check_k(body.k, state.config)
    search_id = uuid.uuid4().hex
    shown = await _shown(body, state, search_id)
    shown.hits, shown.swap = state.traffic.explore(shown.hits)
    state.impressions.put(search_id, Impression(
        index=shown.index, arm=shown.arm, swap=shown.swap, experiment=shown.experiment, teams=shown.teams or {},
        user=body.user, session=body.session,
    ))
    teams = shown.teams or {}
    return SearchResponse(
        index=shown.index, mode=body.mode, search_id=search_id, arm=shown.arm, swap=shown.swap,
        experiment=shown.experiment.model_dump(mode="json") if shown.experiment else None,
        hits=[
            SearchHit(
                id=h.id, doc_id=h.doc_id, score=h.score, text=h.text, duplicate_doc_ids=list(h.duplicate_doc_ids),
                position=i, arm=teams.get(h.id),
            )
            for i, h in enumerate(shown.hits, 1)
        ],
    )
