"""The cross-encoder check: drop or relabel (RLHN) what it finds relevant, reading only what could be a negative."""

from __future__ import annotations

import numpy as np
from test_mining_filters import scenario

from embedtune.dataset import TrainQuery
from embedtune.mining import MiningConfig, load_triplets, mine_negatives
from embedtune.workspace import write_jsonl


class TableCrossEncoder:
    """Stands in for a CrossEncoder: a fixed score per passage text; records how many pairs it read."""

    def __init__(self, scores: dict[str, float], default: float = 0.1) -> None:
        self.table, self.default, self.read = scores, default, 0

    def predict(self, pairs, batch_size=32, show_progress_bar=False):
        self.read += len(pairs)
        return np.array([self.table.get(p, self.default) for _, p in pairs], dtype=np.float32)


# Positive d0; d1 is the dense model's hardest candidate, and the cross-encoder says it is relevant.
SCORES = [0.8, 0.7, 0.69, 0.68, 0.67, 0.66, 0.65]


def _mine(**config):
    docs, enc = scenario({"q": SCORES}, len(SCORES))
    ce = TableCrossEncoder({"d0": 1.0, "d1": 0.95})
    mined = mine_negatives([TrainQuery("q1", "q", ("d0",))], docs,
                           MiningConfig(num_negatives=3, **config), encoder=enc, cross_encoder=ce)
    return mined, ce


def test_ce_relevant_candidate_is_removed_and_replaced():
    mined, ce = _mine()
    (row,) = mined.triplets()
    assert row["negative_ids"] == ["d2", "d3", "d4"] and row["relabelled_positive_ids"] == []
    r = mined.report
    assert r.removed["cross_encoder"] == 1 and r.relabelled == 0
    assert r.ce_checked == 4  # d1..d3 first, then one more for the slot d1 left: not all 6 candidates
    assert ce.read == 4 + 1  # the candidates plus the positive, each read once


def test_relabel_keeps_ce_relevant_candidates_as_extra_positives(tmp_path):
    mined, _ = _mine(relabel=True)
    (row,) = mined.triplets()
    assert row["negative_ids"] == ["d2", "d3", "d4"] and row["relabelled_positive_ids"] == ["d1"]
    assert mined.report.relabelled == 1 and "cross_encoder" not in mined.report.removed
    write_jsonl(tmp_path / "t.jsonl", mined.triplets())
    pairs = load_triplets(tmp_path / "t.jsonl")
    assert [(p.query, p.positive) for p in pairs] == [("q", "d0"), ("q", "d1")]
    assert all(p.negatives == ("d2", "d3", "d4") for p in pairs)
    assert len(load_triplets(tmp_path / "t.jsonl", include_relabelled=False)) == 1


def test_absolute_ce_threshold():
    mined, _ = _mine(ce_threshold=0.05, ce_relative=None)  # everything is "relevant" at 0.05
    (row,) = mined.triplets()
    assert row["negative_ids"] == [] and mined.report.removed["cross_encoder"] == 6
    assert mined.report.rows_without_negatives == 1


def test_auto_threshold_from_the_cross_encoder_when_no_query_has_a_second_positive():
    # One positive (0.9); d1..d40 score 0.89..0.50 and the cross-encoder calls them relevant, d41..d60 not.
    # percpos g lets through the relevant ones scoring below 0.9 g: 2 of 40 (5%) at g = 0.57, 3 at 0.58.
    scores = [0.9] + [round(0.89 - 0.01 * i, 2) for i in range(60)]
    docs, enc = scenario({"q": scores}, len(scores))
    ce = TableCrossEncoder({"d0": 1.0, **{f"d{i}": 0.95 for i in range(1, 41)}})
    mined = mine_negatives([TrainQuery("q1", "q", ("d0",))], docs, MiningConfig(auto_threshold=True),
                           encoder=enc, cross_encoder=ce)
    cal = mined.report.calibration
    assert cal.estimate_source == "cross-encoder" and cal.support == 40
    assert cal.chosen == 0.57 and cal.rate_at_chosen == 0.05
    (row,) = mined.triplets()
    assert row["negative_ids"] == [f"d{i}" for i in range(41, 48)]  # the CE check also drops d39, d40
