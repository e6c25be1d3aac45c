"""Can the dev slice choose? Base and tuned on the old and the new dev slice of one workspace (issue 22, item 5).

The gate and checkpoint selection judge on the dev slice; one that base already aces cannot tell models apart.
For a finished workspace (default: the ``mined`` recipe of ``benchmarks/teachers.py``, full SciFact, generated
queries), scores the base model and the workspace's tuned model at every dim on:

- ``random``: the slice as it was built before issue 22's fix: 200 dev queries against their whole chunks plus
  random distractors (1,000 chunks), so a title or an inverse-cloze sentence is found verbatim in its positive;
- ``hard``: :func:`embedtune.dataset.dev_slice.build_dev_slice`, what ``training.stage.dev_split`` builds now:
  positives as training saw them (the query's source cut out) and BM25 near misses as distractors.

    python benchmarks/dev_slice.py [--workspace /tmp/embedtune-teachers/scifact/mined]

Writes benchmarks/results/dev_slice.json with the CPU.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from embedtune.corpus import load_chunks
from embedtune.dataset.dev_slice import build_dev_slice
from embedtune.gate.scoring import RetrievalSlice, score_slice
from embedtune.gate.verdict import DevCeiling
from embedtune.hardware import capability_record
from embedtune.models import load_embedder
from embedtune.training.stage import MAX_DEV_CORPUS, MAX_DEV_QUERIES
from embedtune.workspace.artifacts import DEV_PAIRS, TRAINED_MODEL

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "dev_slice.json"
DIMS = [384, 192, 96]


def random_slice(pairs, texts: dict[str, str], seed: int = 0) -> RetrievalSlice:
    """The pre-fix slice: whole chunks, random distractors (kept here only to measure against)."""
    if len(pairs) > MAX_DEV_QUERIES:
        pairs = random.Random(seed).sample(pairs, MAX_DEV_QUERIES)
    qrels = {p.query_id: {d: 1 for d in p.positive_ids} for p in pairs}
    needed = sorted({d for p in pairs for d in p.positive_ids})
    others = [i for i in texts if i not in set(needed)]
    ids = needed + random.Random(seed).sample(others, max(0, MAX_DEV_CORPUS - len(needed)))
    return RetrievalSlice("random", {p.query_id: p.query for p in pairs}, {i: texts[i] for i in ids}, qrels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/embedtune-teachers/scifact/mined"))
    args = ap.parse_args()
    texts = {c.id: c.text for c in load_chunks(args.workspace)}
    pairs = DEV_PAIRS.read(args.workspace)
    hard = build_dev_slice(pairs, texts, seed=0, max_queries=MAX_DEV_QUERIES, max_corpus=MAX_DEV_CORPUS)
    assert hard is not None, "no dev pairs"
    slices = {"random": random_slice(pairs, texts),
              "hard": RetrievalSlice("hard", hard.queries, hard.corpus,
                                     {q: {d: 1 for d in r} for q, r in hard.relevant.items()})}
    out: dict = {"workspace": str(args.workspace), "machine": capability_record(), "slices": {}}
    models = {"base": "all-MiniLM-L6-v2", "tuned": str(TRAINED_MODEL.path(args.workspace))}
    for model_name, path in models.items():
        model = load_embedder(path, inference="torch")
        for slice_name, data in slices.items():
            scores = score_slice(model, data, DIMS, 64)
            row = {str(d): round(sum(v.values()) / len(v), 4) for d, v in scores.items()}
            if model_name == "base":
                ceiling = DevCeiling.of(scores, 0.95)
                row |= {"perfect_share": round(ceiling.perfect_share, 3), "can_discriminate": ceiling.can_discriminate}
            out["slices"].setdefault(slice_name, {"queries": len(data.queries), "corpus": len(data.corpus)})[model_name] = row
            print(slice_name, model_name, row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
