"""A/B assignment and team-draft interleaving: how two index versions share live traffic.

Two designs, each with its use:

* **split** (:func:`assign_arm`): each user (else session) is hashed to one arm, so a person always sees the
  same version (sticky, no state kept: the hash of ``salt + unit id`` decides). Measures absolute outcomes
  (CTR, MRR of clicks) per arm; needs many users to detect small differences.
* **interleave** (:func:`team_draft`): every search shows one list merging both arms' rankings, each result
  credited to the arm ("team") that contributed it; the arm whose results get more clicks wins the impression.
  Radlinski, Kurup & Joachims, "How does clickthrough data reflect retrieval quality?" (CIKM 2008): team-draft
  interleaving detects a ranking difference with one to two orders of magnitude fewer impressions than a split.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from embedtune.errors import EmbedtuneError


def unit_fraction(unit: str, salt: str = "") -> float:
    """A uniform number in [0, 1) fixed by ``salt`` and ``unit`` (first 8 bytes of their sha256)."""
    digest = hashlib.sha256(f"{salt}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_arm(unit: str, arms: Sequence[str], split: float = 0.5, salt: str = "") -> str:
    """The arm of ``unit`` (a user or session id): ``arms[1]`` for a share ``split`` of units, else ``arms[0]``.

    Sticky: the same unit, arms and salt always give the same arm. ``split`` is the share of traffic on the
    second arm (the candidate), so raising it moves users only from A to B, never back.
    """
    if len(arms) != 2:
        raise EmbedtuneError(f"an A/B test needs two arms, got {len(arms)}")
    if not 0.0 <= split <= 1.0:
        raise EmbedtuneError(f"split must be between 0 and 1, got {split}")
    return arms[1] if unit_fraction(unit, salt or ",".join(arms)) < split else arms[0]


def team_draft(
    ranking_a: Sequence[str], ranking_b: Sequence[str], k: int, rng: random.Random, arms: tuple[str, str] = ("A", "B")
) -> list[tuple[str, str]]:
    """Team-draft interleaving of two rankings into ``k`` results: ``[(id, arm), ...]``, best first.

    Each round a coin decides which team picks first; each team then adds its highest-ranked result not yet
    in the list (Radlinski et al. 2008, Algorithm 2). A team that runs out stops picking; the other continues.
    """
    out: list[tuple[str, str]] = []
    taken: set[str] = set()
    count = {arms[0]: 0, arms[1]: 0}
    lists = {arms[0]: list(ranking_a), arms[1]: list(ranking_b)}
    pointer = {arms[0]: 0, arms[1]: 0}

    def pick(team: str) -> bool:
        items = lists[team]
        while pointer[team] < len(items) and items[pointer[team]] in taken:
            pointer[team] += 1
        if pointer[team] >= len(items):
            return False
        doc = items[pointer[team]]
        out.append((doc, team))
        taken.add(doc)
        count[team] += 1
        return True

    while len(out) < k:
        a, b = arms
        # The team with fewer picks goes next; a tie is broken by a coin (the "draft").
        if count[a] < count[b] or (count[a] == count[b] and rng.random() < 0.5):
            first, second = a, b
        else:
            first, second = b, a
        if not pick(first) and not pick(second):
            break
    return out[:k]


def interleaving_credit(teams: Sequence[str | None], clicked: Sequence[bool], arms: tuple[str, str]) -> int:
    """+1 when arm B's results got more clicks in this impression, -1 when arm A's did, 0 for a tie."""
    a = sum(1 for t, c in zip(teams, clicked) if c and t == arms[0])
    b = sum(1 for t, c in zip(teams, clicked) if c and t == arms[1])
    return (b > a) - (a > b)
