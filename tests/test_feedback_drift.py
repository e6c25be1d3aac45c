"""Drift: a shifted query stream is flagged (embedding shift, new words, zero clicks); an unshifted one is not."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from conftest import sample_texts

from embedtune.errors import EmbedtuneError
from embedtune.feedback import DriftConfig, FeedbackRecord, drift_report
from embedtune.feedback.drift import words


def encode(texts: list[str]) -> np.ndarray:
    """Hashed bag of words: a stand-in embedding that moves when the vocabulary does."""
    out = np.zeros((len(texts), 128))
    for i, t in enumerate(texts):
        for w in words(t):
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 128] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture(scope="module")
def claims() -> list[str]:
    return [t.split(".")[0] for t in sample_texts(400)]


def log(queries: list[str], clicked: list[bool]) -> list[FeedbackRecord]:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    return [FeedbackRecord(timestamp=t0 + timedelta(minutes=i), query=q,
                           results=[{"id": "a", "position": 1}, {"id": "b", "position": 2}],
                           clicks=[{"id": "b"}] if c else [])
            for i, (q, c) in enumerate(zip(queries, clicked))]


OFF_TOPIC = ["best pasta recipe with garlic", "football scores tonight", "cheap flights to lisbon",
             "how to knit a scarf", "guitar chords for beginners", "weather tomorrow in oslo",
             "vegan chocolate cake", "marathon training plan", "used car prices", "learn spanish fast"]


def test_unshifted_stream_is_not_flagged(claims) -> None:
    rng = random.Random(0)
    stream = [rng.choice(claims[300:]) for _ in range(300)]
    report = drift_report(claims[:300], log(stream, [rng.random() < 0.6 for _ in stream]), encode)
    assert not report.retrain_due, report.flags
    assert report.mmd_p_value > 0.01 and report.zero_click_p_value > 0.01


def test_shifted_stream_is_flagged(claims) -> None:
    rng = random.Random(1)
    before = [rng.choice(claims[300:]) for _ in range(200)]
    after = [rng.choice(OFF_TOPIC) + f" {i}" for i in range(100)]
    clicks = [rng.random() < 0.6 for _ in before] + [rng.random() < 0.2 for _ in after]
    report = drift_report(claims[:300], log(before + after, clicks), encode, DriftConfig(recent_share=1 / 3))
    assert report.retrain_due and len(report.flags) == 3, report.flags
    assert report.mmd_p_value < 0.01 and report.new_vocab_share > 0.5
    assert report.zero_click_recent > report.zero_click_before


def test_too_few_searches_is_one_line(claims) -> None:
    with pytest.raises(EmbedtuneError, match="too few"):
        drift_report(claims[:300], log(claims[:5], [True] * 5), encode)
