"""The out-of-domain guard's data: a general retrieval slice that is not the user's domain.

A fine-tune can win on the user's documents and quietly lose everywhere else (catastrophic forgetting), which
matters as soon as the index holds anything the training corpus did not. The gate scores base, tuned and
every merge on a slice outside the user's domain and refuses candidates that fall there by more than
``gate.max_ood_drop``. The default slice ships in the package (``samples/ood/``: 80 PubMedQA questions over
480 abstracts, MIT; why that one and its limits are in its ``SOURCE.md``); ``gate.ood_dataset`` names BEIR
folders to use instead, pooled into one slice, each sampled down to a few seconds of encoding.

Example::

    from embedtune.gate.ood import load_ood_slice

    data = load_ood_slice()  # the bundled slice
    print(data.name, len(data.queries), len(data.corpus))
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from embedtune.evaluation.beir import available_splits, load_beir
from embedtune.gate.scoring import RetrievalSlice

BUNDLED_NAME = "pubmedqa-slice"


def bundled_ood_dir() -> Path:
    """Folder of the bundled out-of-domain slice, in BEIR layout (``qrels/test.tsv``)."""
    return Path(str(resources.files("embedtune.samples") / "ood"))


def _sample(path: Path, max_queries: int, max_docs: int, seed: int, prefix: str) -> RetrievalSlice:
    splits = available_splits(path)
    data = load_beir(path, "test" if "test" in splits or not splits else splits[0])
    queries = data.evaluable_queries
    rng = random.Random(seed)
    if len(queries) > max_queries:
        queries = {q: queries[q] for q in sorted(rng.sample(sorted(queries), max_queries))}
    qrels = {q: dict(data.qrels[q]) for q in queries}
    # Keep every judged doc of the kept queries, then fill up with a seeded sample of the others: the
    # distractors make it retrieval, the cap keeps it to seconds of encoding per model.
    needed = {d for docs in qrels.values() for d in docs}
    others = [d.id for d in data.corpus if d.id not in needed]
    keep = needed | set(rng.sample(others, max(0, min(len(others), max_docs - len(needed)))))
    corpus = {prefix + d.id: d.full_text for d in data.corpus if d.id in keep}
    return RetrievalSlice(
        data.name, {prefix + q: t for q, t in queries.items()}, corpus,
        {prefix + q: {prefix + d: g for d, g in docs.items()} for q, docs in qrels.items()},
    )


def load_ood_slice(
    paths: Sequence[str | Path] | None = None, max_queries: int = 100, max_docs: int = 1000, seed: int = 0
) -> RetrievalSlice:
    """The guard's slice: ``paths`` (BEIR folders, pooled) or, when none, the bundled PubMedQA slice.

    Each folder contributes at most ``max_queries`` of its judged queries (seeded sample) and at most
    ``max_docs`` documents (all judged ones of those queries first). Ids are prefixed with the folder name
    when several are pooled.
    """
    if not paths:
        data = _sample(bundled_ood_dir(), max_queries, max_docs, seed, "")
        return RetrievalSlice(BUNDLED_NAME, data.queries, data.corpus, data.qrels)
    parts = [_sample(Path(p), max_queries, max_docs, seed, f"{Path(p).name}:" if len(paths) > 1 else "")
             for p in paths]
    return RetrievalSlice(
        "+".join(p.name for p in parts),
        {q: t for p in parts for q, t in p.queries.items()},
        {d: t for p in parts for d, t in p.corpus.items()},
        {q: r for p in parts for q, r in p.qrels.items()},
    )
