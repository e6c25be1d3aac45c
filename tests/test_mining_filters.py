"""Positive-aware filters, several positives, sampling and short rows, on hand-made embeddings (no model).

A stand-in encoder maps each text to a fixed unit vector: query ``i`` is the axis ``e_i``, and a passage's
coordinate ``i`` is its cosine with query ``i``, so every score below is exactly the number written.
"""

from __future__ import annotations

import numpy as np
import pytest

from embedtune.dataset import TrainQuery
from embedtune.mining import MiningConfig, mine_negatives
from embedtune.mining.filters import KEPT, RANK_WINDOW, TOPK_ABS, TOPK_PERCPOS, percpos_threshold, removal_reasons
from embedtune.retrieval import Document


class VectorEncoder:
    """Stands in for a SentenceTransformer: every text has a fixed, already normalised vector."""

    max_seq_length = 64

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors
        self.dim = len(next(iter(vectors.values())))

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode_query(self, texts, **_) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    encode_document = encode_query


def scenario(queries: dict[str, list[float]], n_docs: int):
    """Docs d0..d{n-1}; ``queries[text]`` lists each doc's cosine with that query."""
    nq = len(queries)
    dim = nq + 1
    vectors: dict[str, np.ndarray] = {}
    cols = np.array(list(queries.values()), dtype=np.float64).T  # (docs, queries)
    docs = []
    for j in range(n_docs):
        v = np.zeros(dim)
        v[:nq] = cols[j]
        v[nq] = np.sqrt(max(0.0, 1.0 - float(np.sum(cols[j] ** 2))))
        vectors[f"d{j}"] = v
        docs.append(Document(f"d{j}", f"d{j}"))
    for i, text in enumerate(queries):
        vectors[text] = np.eye(dim)[i]
    return docs, VectorEncoder(vectors)


def mine_rows(queries: list[TrainQuery], docs, encoder, **config):
    mined = mine_negatives(queries, docs, MiningConfig(**config), encoder=encoder)
    return list(mined.triplets()), mined.report


def test_no_candidate_above_95_percent_of_the_positive_is_a_negative():
    # d0 is the positive (0.8); d1..d3 score above 0.95 x 0.8 = 0.76 and are likely unlabelled positives.
    scores = [0.8, 0.79, 0.77, 0.765, 0.75, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    docs, enc = scenario({"q": scores}, len(scores))
    rows, report = mine_rows([TrainQuery("q1", "q", ("d0",))], docs, enc)
    (row,) = rows
    assert row["negative_ids"] == ["d4", "d5", "d6", "d7", "d8", "d9", "d10"]  # hardest survivors, in order
    assert max(row["negative_scores"]) < 0.95 * row["positive_score"]
    assert report.removed["topk-percpos"] == 3 and report.rows_short == 0
    assert report.candidates_seen == 12 and report.removed["known_positive"] == 1
    assert report.survivors == 8 and report.negatives == 7


def test_known_positives_never_negatives_and_the_reference_with_several_positives():
    # Positives d0 (0.9) and d1 (0.6); d2 (0.7) scores between them, d3.. below both.
    scores = [0.9, 0.6, 0.7, 0.55, 0.5, 0.45, 0.4]
    docs, enc = scenario({"q": scores}, len(scores))
    query = TrainQuery("q1", "q", ("d0", "d1"))

    rows, report = mine_rows([query], docs, enc, num_negatives=2)  # default: the weakest positive, ceiling 0.57
    assert [r["positive_id"] for r in rows] == ["d0", "d1"]
    for r in rows:
        assert not {"d0", "d1"} & set(r["negative_ids"])
        assert r["negative_ids"] == ["d3", "d4"]  # d2 (0.7) looks more relevant than the known positive d1
    assert report.removed["known_positive"] == 4  # both positives were retrieved, counted for each of 2 rows
    assert report.removed["topk-percpos"] == 2

    own, _ = mine_rows([query], docs, enc, num_negatives=2, positive_reference="own")
    assert own[0]["negative_ids"] == ["d2", "d3"]  # against 0.9 the ceiling is 0.855
    assert own[1]["negative_ids"] == ["d3", "d4"]  # against 0.6 it is 0.57


def test_more_negatives_requested_than_exist_keeps_the_row_and_counts_it():
    docs, enc = scenario({"q": [0.8, 0.79, 0.5, 0.4]}, 4)
    rows, report = mine_rows([TrainQuery("q1", "q", ("d0",))], docs, enc, num_negatives=7)
    assert rows[0]["negative_ids"] == ["d2", "d3"]
    assert report.rows_short == 1 and report.queries_short == 1 and report.rows_without_negatives == 0
    assert report.negatives == 2 and report.rows == 1


def test_random_sampling_is_seeded_per_row_and_stays_within_survivors():
    scores = [0.8] + [0.7 - 0.01 * i for i in range(30)]
    docs, enc = scenario({"q": scores}, len(scores))
    query = [TrainQuery("q1", "q", ("d0",))]
    a, _ = mine_rows(query, docs, enc, num_negatives=5, sampling="random", seed=1)
    b, _ = mine_rows(query, docs, enc, num_negatives=5, sampling="random", seed=1)
    c, _ = mine_rows(query, docs, enc, num_negatives=5, sampling="random", seed=2)
    assert a == b and a[0]["negative_ids"] != c[0]["negative_ids"]
    assert len(set(a[0]["negative_ids"])) == 5 and "d0" not in a[0]["negative_ids"]
    assert a[0]["negative_scores"] == sorted(a[0]["negative_scores"], reverse=True)


def test_reason_codes_precedence_and_sign_safe_percpos():
    config = MiningConfig(range_min=1, max_score=0.75)
    codes = removal_reasons(np.array([0.9, 0.8, 0.78, 0.5, -np.inf]), np.array([0.8]), config)
    assert codes[0, :4].tolist() == [RANK_WINDOW, TOPK_ABS, TOPK_ABS, KEPT]
    codes = removal_reasons(np.array([0.77, 0.7]), np.array([0.8]), MiningConfig())
    assert codes[0].tolist() == [TOPK_PERCPOS, KEPT]
    # A negative positive score: 95% must mean "5% of its magnitude below it", not above it.
    assert percpos_threshold(-0.2, 0.95) == pytest.approx(-0.21)
