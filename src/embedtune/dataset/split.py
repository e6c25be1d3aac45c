"""Split queries into train / dev / eval by *source document*, so no eval document teaches the model.

Splitting by query leaks: two synthetic questions about one document land on both sides and the eval score
measures memorisation. Here every document goes to one side (a stable hash of its id, or a held-out source
pattern), each query follows the document of its positive, and dev (checkpoint selection) is carved from the
training documents so the eval split is never looked at before the final report.

When the user brings real eval queries (``eval_qrels``), those are the eval set; by default the documents they
judge relevant are still kept out of training (``exclude_eval_docs``), which measures generalisation to unseen
documents. Turning it off is the transductive setting of GPL/Promptagator: every document of the corpus gets
synthetic training queries, as it would in production.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from embedtune.dataset.leakage import find_near_duplicates
from embedtune.workspace.rows import TrainQuery

__all__ = ["SplitConfig", "SplitResult", "TrainQuery", "split_queries"]


class SplitConfig(BaseModel):
    """How the split holds documents out: a hashed share or a source pattern, a dev slice, a real eval set's rule.

    Example::

        from embedtune import SplitConfig, split
        split("embedtune-runs/default", SplitConfig(eval_fraction=0.2, holdout_source="archive/*"))
    """

    eval_fraction: float = Field(default=0.2, ge=0.0, lt=1.0, description="Share of documents held out for eval (no real eval set).")
    dev_fraction: float = Field(default=0.1, ge=0.0, lt=1.0, description="Share of training documents kept for checkpoint selection.")
    holdout_source: str | None = Field(default=None, description="Glob on chunk source paths: matching documents go to eval.")
    exclude_eval_docs: bool = Field(default=True, description="Keep documents judged in real eval qrels out of training.")
    near_duplicate_threshold: float = 0.8
    seed: int = 0


@dataclass
class SplitResult:
    train: list[TrainQuery]
    dev: list[TrainQuery]
    eval_queries: dict[str, str]
    eval_qrels: dict[str, dict[str, int]]
    eval_docs: set[str]
    report: dict = field(default_factory=dict)


def _bucket(doc_id: str, seed: int, salt: str) -> float:
    """A stable pseudo-random number in [0, 1) per document: same split on every run and machine."""
    digest = hashlib.sha256(f"{seed}:{salt}:{doc_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _groups(docs_of: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    """Document -> every document it shares a chunk with, transitively (union-find over ``Chunk.doc_ids``).

    Documents that share a deduplicated chunk hold the same text, so they must land on the same side.
    """
    parent: dict[str, str] = {}

    def find(d: str) -> str:
        while parent.setdefault(d, d) != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    for ds in docs_of.values():
        for d in ds[1:]:
            parent[find(d)] = find(ds[0])
    members: dict[str, set[str]] = {}
    for ds in docs_of.values():
        for d in ds:
            members.setdefault(find(d), set()).add(d)
    return {d: frozenset(group) for group in members.values() for d in group}


def _held_out(docs: set[str], groups: Mapping[str, frozenset[str]], picked: set[str]) -> set[str]:
    """``picked`` widened to whole groups: one held-out member holds out every document sharing its text."""
    return {d for d in docs if groups[d] & picked}


def split_queries(
    queries: Sequence[TrainQuery],
    chunk_doc: Mapping[str, str | Sequence[str]],
    chunk_source: Mapping[str, str],
    config: SplitConfig | None = None,
    eval_queries: Mapping[str, str] | None = None,
    eval_qrels: Mapping[str, Mapping[str, int]] | None = None,
) -> SplitResult:
    """Assign documents to sides, then queries to their positive's side; drop training near-duplicates of eval.

    A query trains only when none of the documents its positives stand for is held out, so a deduplicated chunk
    that also stands for an eval document never reaches training.

    Args:
        queries: candidate training queries, each with its positive chunk ids.
        chunk_doc: chunk id -> its documents (``Chunk.doc_ids``: main first, then duplicates), or one document id.
        chunk_source: chunk id -> source path of its main document (for ``holdout_source``).
        eval_queries / eval_qrels: real eval queries and document-level judgments, if the user has them.
    """
    cfg = config or SplitConfig()
    docs_of = {c: (d,) if isinstance(d, str) else tuple(d) for c, d in chunk_doc.items()}
    docs = {d for ds in docs_of.values() for d in ds}
    groups = _groups(docs_of)
    doc_source = {docs_of[c][0]: s for c, s in chunk_source.items() if c in docs_of}
    if eval_qrels:
        # Only the judged documents: a chunk standing for one is still kept out of training (below).
        eval_docs = {d for judged in eval_qrels.values() for d, s in judged.items() if s > 0} if cfg.exclude_eval_docs else set()
        reason = "documents judged relevant in the eval qrels" if cfg.exclude_eval_docs else "none (transductive)"
    elif cfg.holdout_source:
        matching = {d for d in docs if fnmatch.fnmatch(doc_source.get(d, ""), cfg.holdout_source)}
        eval_docs = _held_out(docs, groups, matching)
        reason = f"source matches {cfg.holdout_source!r}"
    else:
        eval_docs = _held_out(docs, groups, {d for d in docs if _bucket(d, cfg.seed, "eval") < cfg.eval_fraction})
        reason = f"{cfg.eval_fraction:.0%} of documents by stable hash"
    rest = docs - eval_docs
    dev_docs = _held_out(rest, groups, {d for d in rest if _bucket(d, cfg.seed, "dev") < cfg.dev_fraction}) - eval_docs

    train: list[TrainQuery] = []
    dev: list[TrainQuery] = []
    synthetic_eval: list[TrainQuery] = []
    for q in queries:
        sides = {d for c in q.positive_ids for d in docs_of.get(c, ())}
        if not sides:
            continue
        if sides & eval_docs:
            if not eval_qrels:
                synthetic_eval.append(q)
        elif sides & dev_docs:
            dev.append(q)
        else:
            train.append(q)

    if eval_qrels:
        out_queries = {q: eval_queries[q] for q in eval_qrels if eval_queries and q in eval_queries}
        out_qrels = {q: dict(j) for q, j in eval_qrels.items() if q in out_queries}
    else:
        out_queries = {q.query_id: q.query for q in synthetic_eval}
        # Every document the positive stands for is relevant: evaluation credits a hit on it to all of them.
        out_qrels = {q.query_id: {d: 1 for c in q.positive_ids for d in docs_of.get(c, ())} for q in synthetic_eval}

    eval_texts = list(out_queries.values())
    candidates = train + dev
    leaks = find_near_duplicates(eval_texts, [q.query for q in candidates], cfg.near_duplicate_threshold)
    leaked = {j for _, j in leaks}
    train = [q for j, q in enumerate(candidates[: len(train)]) if j not in leaked]
    dev = [q for j, q in enumerate(candidates[len(candidates) - len(dev):], start=len(candidates) - len(dev)) if j not in leaked]
    report: dict = {
        "documents": len(docs),
        "eval_documents": len(eval_docs),
        "eval_documents_rule": reason,
        "dev_documents": len(dev_docs),
        "train_queries": len(train),
        "dev_queries": len(dev),
        "eval_queries": len(out_queries),
        "eval_source": "real (user qrels)" if eval_qrels else "synthetic queries of held-out documents",
        "near_duplicates_of_eval_dropped": len(leaked),
        "near_duplicate_examples": [
            {"eval": eval_texts[i], "train": candidates[j].query} for i, j in leaks[:20]
        ],
    }
    if eval_qrels and cfg.exclude_eval_docs and len(eval_docs) > len(docs) / 2:
        # NFCorpus-like qrels judge most of the corpus: the strict split would train on the leftovers only.
        report["warning"] = (
            f"the eval qrels judge {len(eval_docs):,} of {len(docs):,} documents relevant, so only "
            f"{len(docs) - len(eval_docs):,} documents can give training queries; consider the transductive split "
            "(split.exclude_eval_docs: false, `embedtune split --transductive`): training queries still never "
            "come from the eval set"
        )
    return SplitResult(train, dev, out_queries, out_qrels, eval_docs, report)
