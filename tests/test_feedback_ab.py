"""A/B: sticky split, team-draft interleaving and its credit, and the report on planted vs identical arms."""

from __future__ import annotations

import random

import numpy as np
import pytest

from embedtune.errors import EmbedtuneError
from embedtune.feedback import ab_report, assign_arm, interleaving_credit, team_draft
from embedtune.feedback.simulate import Users, power_curve, simulate_ab

ARMS = ("v1", "v2")


def test_split_is_sticky_and_honours_the_share() -> None:
    users = [f"user-{i}" for i in range(20_000)]
    first = [assign_arm(u, ARMS, 0.3) for u in users]
    assert first == [assign_arm(u, ARMS, 0.3) for u in users]  # sticky
    assert first.count("v2") / len(users) == pytest.approx(0.3, abs=0.015)
    # Raising the share only moves users from A to B.
    more = [assign_arm(u, ARMS, 0.5) for u in users]
    assert all(m == "v2" for f, m in zip(first, more) if f == "v2")
    with pytest.raises(EmbedtuneError, match="between 0 and 1"):
        assign_arm("u", ARMS, 1.5)


def test_team_draft_takes_turns_without_duplicates() -> None:
    a, b = ["a1", "s1", "a2", "a3"], ["s1", "b1", "b2", "b3"]
    for seed in range(20):
        merged = team_draft(a, b, 6, random.Random(seed), ARMS)
        ids = [d for d, _ in merged]
        assert len(ids) == len(set(ids)) == 6
        teams = [t for _, t in merged]
        for i in range(0, 6, 2):  # every round gives each team one pick
            assert sorted(teams[i : i + 2]) == ["v1", "v2"]
        assert ids[:2] in (["a1", "s1"], ["s1", "a1"])  # each team's best first
    assert team_draft(["x"], [], 3, random.Random(0), ARMS) == [("x", "v1")]


def test_interleaving_credit() -> None:
    teams = ["v1", "v2", "v1", "v2"]
    assert interleaving_credit(teams, [True, False, False, False], ARMS) == -1
    assert interleaving_credit(teams, [True, True, False, True], ARMS) == 1
    assert interleaving_credit(teams, [True, True, False, False], ARMS) == 0


def world(n_queries: int = 60, seed: int = 0):
    """Queries with 2 relevant docs among 10; ``good`` ranks them on top, ``poor`` puts them at ranks 4-5."""
    rng = np.random.default_rng(seed)
    relevant, good, poor = {}, {}, {}
    for i in range(n_queries):
        docs = [f"q{i}-d{j}" for j in range(10)]
        rel = set(rng.choice(docs, 2, replace=False).tolist())
        others = [d for d in docs if d not in rel]
        relevant[f"q{i}"] = rel
        good[f"q{i}"] = sorted(rel) + others
        poor[f"q{i}"] = others[:3] + sorted(rel) + others[3:]
    return relevant, good.__getitem__, poor.__getitem__


USERS = Users(power_curve(10, 1.0))


def test_report_detects_a_planted_better_arm() -> None:
    relevant, good, poor = world()
    log = simulate_ab(poor, good, relevant, USERS, 300, 5, arms=ARMS, seed=1)
    report = ab_report(log)
    assert report.mode == "split" and report.arms == ARMS and report.significant
    assert report.delta["mrr"] > 0 and report.recommendation.startswith("promote v2")
    a, b = report.arm_stats
    assert a.units + b.units == 300 and a.mrr_ci[0] <= a.mrr <= a.mrr_ci[1] and b.mrr > a.mrr_ci[1]


def test_identical_arms_are_called_different_at_about_alpha() -> None:
    relevant, good, _ = world()
    calls = [ab_report(simulate_ab(good, good, relevant, USERS, 100, 4, arms=ARMS, seed=s)).significant
             for s in range(60)]
    assert sum(calls) <= 9  # 5% of 60 is 3; P(> 9) < 0.3% under the null


def test_interleaving_report() -> None:
    relevant, good, poor = world()
    planted = ab_report(simulate_ab(poor, good, relevant, USERS, 100, 3, mode="interleave", arms=ARMS, seed=2))
    i = planted.interleaving
    assert planted.mode == "interleave" and i is not None and i.wins > i.losses and planted.significant
    assert planted.recommendation.startswith("v2 wins")
    same = ab_report(simulate_ab(good, good, relevant, USERS, 100, 3, mode="interleave", arms=ARMS, seed=3))
    assert not same.significant and same.interleaving.wins + same.interleaving.losses > 0


def test_report_needs_two_arms() -> None:
    relevant, good, _ = world(5)
    log = [r.model_copy(update={"experiment": None, "arm": "only"}) for r in
           simulate_ab(good, good, relevant, USERS, 5, 2, arms=ARMS)]
    with pytest.raises(EmbedtuneError, match=r"pass arms=\(A, B\)"):
        ab_report(log)


def test_cli_ab_report(tmp_path, cli) -> None:
    from embedtune.feedback import write_log

    relevant, good, poor = world()
    log = tmp_path / "ab.jsonl"
    write_log(log, simulate_ab(poor, good, relevant, USERS, 200, 4, arms=ARMS, seed=4))
    code, out, _ = cli("ab", "report", "--feedback", log, "--json", tmp_path / "ab.json")
    assert code == 0 and "recommendation: promote v2" in out and "95% CI" in out
    assert (tmp_path / "ab.json").exists()
