"""The tuned model's README.md: what it was trained from, on what, how, and how much better it retrieves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from embedtune import __version__
from embedtune.hashing import MODEL_CARD
from embedtune.training.config import TrainConfig
from embedtune.workspace.atomic import atomic_write


def model_files(model_dir: Path) -> list[Path]:
    """The files of a model folder, or of a folder of models (the gate's merges), but their cards: what a stage
    records of a model, since a card is rewritten with the evaluation's results after they are known."""
    return [f for f in sorted(model_dir.rglob("*")) if f.is_file() and f.name != MODEL_CARD]


def _table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "".join("| " + " | ".join(_fmt(r.get(c, "")) for c in columns) + " |\n" for r in rows)
    return head + body


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}" if 0 < abs(value) < 1e-3 else f"{value:.4f}"
    return str(value)


def write_model_card(
    model_dir: str | Path,
    base_model: str,
    config: TrainConfig,
    data: Mapping[str, object],
    dims: Sequence[int],
    comparison: Sequence[Mapping[str, object]] = (),
) -> Path:
    """Write ``README.md`` in ``model_dir``.

    ``data`` holds the data sizes (e.g. training pairs, negatives per pair, eval queries) and ``comparison``
    rows like ``{"dim": 384, "base ndcg@10": 0.645, "tuned ndcg@10": 0.69, "p-value": 0.001}``.
    """
    params = config.model_dump()
    params["learning_rate"] = config.resolved_lr()
    text = f"""---
library_name: sentence-transformers
tags: [sentence-transformers, embedtune, matryoshka]
base_model: {base_model}
---

# Fine-tuned from {base_model}

Trained with embedtune {__version__}. Load it offline with `SentenceTransformer("{Path(model_dir).name}")`;
Matryoshka dims {', '.join(map(str, dims))} can be used by truncating vectors (`truncate_dim=`) and
re-normalising.

## Data
{_table([{"item": k, "value": v} for k, v in data.items()], ["item", "value"])}
## Training
- loss: `{config.loss}`{" wrapped in MatryoshkaLoss" if len(dims) > 1 else ""}
{_table([{"parameter": k, "value": v} for k, v in params.items()], ["parameter", "value"])}
## Before / after
{_table(comparison, list(comparison[0])) if comparison else "Not evaluated yet."}
"""
    path = Path(model_dir) / MODEL_CARD
    with atomic_write(path) as f:
        f.write(text)
    return path
