"""A/B tests and exploration on live search traffic (``embedtune serve --ab A,B --explore-rate R``).

Per search: pick what to show (one version; in ``split`` mode the user's sticky arm; in ``interleave`` mode a
team-draft merge of both arms' rankings), then, for a share ``explore_rate`` of searches, swap one random
adjacent pair of the results. The swap is a randomised intervention: comparing clicks on the same pair of
ranks with and without it measures position bias free of relevance (Joachims, Swaminathan & Schnabel,
"Unbiased learning-to-rank with biased feedback", WSDM 2017; Wang et al., WSDM 2018, RandPair). Everything
chosen here is returned to the client and remembered for ``/feedback`` (:mod:`embedtune.serving.impressions`).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from embedtune.feedback.ab import assign_arm, team_draft
from embedtune.feedback.log import Experiment
from embedtune.index.base import Hit
from embedtune.serving.config import ServeConfig


@dataclass
class Shown:
    """The hits to return, with the arm / teams / swap that produced them."""

    index: str
    hits: list[Hit]
    arm: str | None = None
    teams: dict[str, str] | None = None
    swap: tuple[int, int] | None = None
    experiment: Experiment | None = None


class Traffic:
    """The experiment settings of one server plus its (seedable, thread-safe) coin."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self.experiment = Experiment(mode=config.ab_mode, arms=config.ab) if config.ab else None

    def arm_for(self, unit: str) -> str:
        """The sticky arm of a user/session id (split mode)."""
        assert self.config.ab is not None
        return assign_arm(unit, self.config.ab, self.config.ab_split)

    def interleave(self, hits_a: list[Hit], hits_b: list[Hit], k: int) -> tuple[list[Hit], dict[str, str]]:
        """Team-draft merge of two arms' hits: the hits shown and each one's team."""
        assert self.config.ab is not None
        by_id = {h.id: h for h in hits_b} | {h.id: h for h in hits_a}
        with self._lock:
            merged = team_draft([h.id for h in hits_a], [h.id for h in hits_b], k, self._rng, self.config.ab)
        return [by_id[i] for i, _ in merged], dict(merged)

    def explore(self, hits: list[Hit]) -> tuple[list[Hit], tuple[int, int] | None]:
        """With probability ``explore_rate``, swap one uniformly chosen adjacent pair (1-based positions)."""
        if self.config.explore_rate <= 0 or len(hits) < 2:
            return hits, None
        with self._lock:
            if self._rng.random() >= self.config.explore_rate:
                return hits, None
            p = self._rng.randrange(len(hits) - 1)
        hits = list(hits)
        hits[p], hits[p + 1] = hits[p + 1], hits[p]
        return hits, (p + 1, p + 2)
