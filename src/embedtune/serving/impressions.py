"""What the server showed for recent searches, so feedback can be tied to it by ``search_id``.

A client that posts ``/feedback`` with the ``search_id`` of a ``/search`` answer need not echo (and cannot
forge) the experiment details: the version, the A/B arm, each result's interleaving team and the exploration
swap come from here. Bounded: the oldest searches are forgotten first (feedback about them is still logged,
with whatever the client sent).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from embedtune.feedback.log import Experiment


@dataclass(frozen=True)
class Impression:
    """One search's answer as the server produced it."""

    index: str
    arm: str | None = None
    swap: tuple[int, int] | None = None
    experiment: Experiment | None = None
    teams: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    session: str | None = None


class ImpressionMemory:
    """``search_id`` -> :class:`Impression`, least recently stored evicted beyond ``size`` (0: remember none)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Impression] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, search_id: str, impression: Impression) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[search_id] = impression
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, search_id: str | None) -> Impression | None:
        if search_id is None:
            return None
        with self._lock:
            return self._items.get(search_id)
