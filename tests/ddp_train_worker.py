"""Run by ``torchrun`` in test_scale_ddp.py: one DDP training process (not a test module itself)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import sample_texts

from embedtune.training import TrainConfig, TrainPair, train_model


def pairs() -> list[TrainPair]:
    texts = sample_texts(64)
    return [TrainPair(query=t.split(".")[0], positive=t, negatives=(texts[(i + 1) % len(texts)],))
            for i, t in enumerate(texts)]


def config() -> TrainConfig:
    return TrainConfig(batch_size=8, epochs=1, matryoshka_dims=[32, 16], learning_rate=1e-3)


if __name__ == "__main__":
    model_dir, out = sys.argv[1], Path(sys.argv[2])
    result = train_model(model_dir, pairs(), out, config())
    (out / "steps.json").write_text(json.dumps({"steps": result.steps}))
