"""The split stage: ``chunks.jsonl`` + ``queries.jsonl`` (+ optional real eval set) -> train / dev / eval files.

Writes, in the workspace:
- ``train_pairs.jsonl`` and ``dev_pairs.jsonl``: ``{query_id, query, positive_ids, weight, source, positive_text}``
- ``eval/queries.jsonl`` (BEIR ``_id``/``text``) and ``eval/qrels.tsv`` (document-level judgments)
- ``split_report.json``
"""

from __future__ import annotations

from pathlib import Path

from embedtune.corpus import load_chunks
from embedtune.dataset.split import SplitConfig, SplitResult, TrainQuery, split_queries
from embedtune.errors import EmbedtuneError
from embedtune.hashing import fingerprint_paths
from embedtune.workspace import Workspace
from embedtune.workspace.artifacts import (
    CHUNKS,
    DEV_PAIRS,
    EVAL_QRELS,
    EVAL_QUERIES,
    QUERIES,
    SPLIT_REPORT,
    TRAIN_PAIRS,
    iter_pairs,
    load_pairs,
)

__all__ = ["build_split", "iter_pairs", "load_pairs"]

STAGE = "split"


def _generated_queries(ws: Workspace) -> list[TrainQuery]:
    """The generate stage's queries as training candidates: a query's positives are its chunk and the chunks a
    multi-hop query also needs."""
    return [
        TrainQuery(query_id=q.id, query=q.text, positive_ids=q.positive_ids, source=f"{q.backend}:{q.style}",
                   positive_text=q.positive_text)
        for q in QUERIES.iter(ws)
    ]


def build_split(
    workspace: Workspace | str | Path,
    config: SplitConfig | None = None,
    eval_queries: dict[str, str] | None = None,
    eval_qrels: dict[str, dict[str, int]] | None = None,
    *,
    force: bool = False,
) -> SplitResult | None:
    """Run the split stage (after ``generate``); returns None when it is already current (unless ``force``).

    Every document goes to one side, a query follows the documents its positives stand for
    (:attr:`~embedtune.corpus.chunk.Chunk.doc_ids`), and training queries that near-duplicate an eval query are
    dropped. With ``eval_qrels`` (a real eval set) those queries are the eval set.

    Example::

        from embedtune import SplitConfig, load_pairs, split
        split("embedtune-runs/default", SplitConfig(eval_fraction=0.2))
        train = load_pairs("embedtune-runs/default/train_pairs.jsonl")
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    cfg = config or SplitConfig()
    inputs = fingerprint_paths([CHUNKS.path(ws), QUERIES.path(ws)])
    params = {"config": cfg.model_dump(), "eval_queries": eval_queries, "eval_qrels": eval_qrels}
    if not force and ws.is_current(STAGE, inputs, params):
        return None
    chunks = load_chunks(ws)
    queries = _generated_queries(ws)
    chunk_docs = {c.id: c.doc_ids for c in chunks}  # main + duplicates, as evaluation credits them
    result = split_queries(queries, chunk_docs, {c.id: c.source for c in chunks}, cfg, eval_queries, eval_qrels)
    if not result.train:
        raise EmbedtuneError(f"{ws.root}: the split left no training queries ({result.report})")
    if not result.eval_queries:
        raise EmbedtuneError(
            f"{ws.root}: the split left no eval queries; raise SplitConfig.eval_fraction or pass a real eval set "
            "(eval_queries, eval_qrels)"
        )
    with ws.stage(STAGE, inputs, params) as run:
        TRAIN_PAIRS.write(run, result.train)
        DEV_PAIRS.write(run, result.dev)
        EVAL_QUERIES.write(run, result.eval_queries)
        EVAL_QRELS.write(run, result.eval_qrels)
        SPLIT_REPORT.write(run, result.report)
        run.record.summary = {k: v for k, v in result.report.items() if isinstance(v, int)}
    return result
