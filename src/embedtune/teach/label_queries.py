"""Label real queries that have no judgments (a search log without clicks) with the offline teacher.

What it is for: the queries your users actually type are the signal that lifts a model; generated ones barely do
(``benchmarks/query_ceiling.py``). Most teams have such queries but no labels. Each query is searched with the
base hybrid (BM25 + the base model, RRF), the teacher (:class:`~embedtune.teach.reranker.TeacherReranker`:
cross-encoder + bge-small + BM25 when installed) reorders the top ``top_n``, and the document of its first chunk
becomes the query's label. The output is a labelled-pairs JSONL that ``generate`` reads as real queries
(``generate.labelled``), so the split's leakage rules and the eval-contamination check apply to them as to human
labels. Measured on SciFact: 809 training claims labelled this way, fully fine-tuned, lift as much as the same
claims with their human labels (``docs/benchmarks.md``).

Teacher scores are cached in the workspace (the ``teach`` stage's cache), so an interrupted labelling resumes and
a rerun costs nothing. Reference: the pseudo-labelling of GPL (Wang et al., 2022), applied to real queries instead
of generated ones.

Example::

    from embedtune.teach import TeachConfig
    from embedtune.teach.label_queries import label_queries
    result = label_queries("embedtune-runs/default", "search_log.txt", "labelled.jsonl", TeachConfig())
    print(result.labelled, result.teacher)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from embedtune.errors import EmbedtuneError, InputError
from embedtune.hashing import sha256_text
from embedtune.progress import console
from embedtune.retrieval.base import Run, ranked
from embedtune.retrieval.runner import LOCAL, Runner
from embedtune.teach.config import TeachConfig
from embedtune.teach.teachers import TeacherPlan
from embedtune.workspace import Workspace
from embedtune.workspace.atomic import read_jsonl_lines, write_jsonl
from embedtune.workspace.rows import Chunk

FIRST_STAGE_DEPTH = 100  # hybrid candidates per query before the teacher reorders the head
LABEL_TOP_N = 20  # the teacher reorders this many of them (the setting measured in benchmarks/query_ceiling.py)


@dataclass(frozen=True)
class LabelResult:
    """What :func:`label_queries` wrote: ``labelled`` rows in ``path``, by ``teacher``."""

    path: Path
    read: int
    labelled: int
    teacher: str


def read_unlabelled(path: str | Path) -> dict[str, str]:
    """Query id -> text from a text file (one query per line) or a JSONL with ``query`` (``query_id`` optional);
    repeated texts are kept once."""
    path = Path(path)
    if not path.is_file():
        raise EmbedtuneError(f"{path}: no such queries file")
    out: dict[str, str] = {}
    seen: set[str] = set()
    if path.suffix == ".jsonl":
        rows = []
        for line, row in read_jsonl_lines(path):
            text = row.get("query") if isinstance(row, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise InputError(path, "row without a 'query' text", line=line)
            rows.append((str(row.get("query_id") or row.get("id") or ""), text.strip()))
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError(path, "not UTF-8 text") from None
        rows = [("", t.strip()) for t in lines if t.strip()]
    for qid, text in rows:
        if text not in seen:
            seen.add(text)
            out[qid or f"q_{sha256_text(text)[:16]}"] = text
    if not out:
        raise InputError(path, "no queries in the file")
    return out


def rank_with_teacher(
    workspace: Workspace | str | Path, queries: Mapping[str, str], config: TeachConfig | None = None,
    base_model: str = "all-MiniLM-L6-v2", *, exclude_docs: Collection[str] = (), runner: Runner = LOCAL,
) -> tuple[Run, list[Chunk], TeacherPlan]:
    """Each query's top ``LABEL_TOP_N`` chunks in the teacher's order (chunk id -> fused label), from the base
    hybrid's top ``FIRST_STAGE_DEPTH``; chunks of ``exclude_docs`` are never candidates. Also returns the chunks and
    the resolved teacher. Teacher scores are cached in the workspace (the ``teach`` stage's cache)."""
    from embedtune.corpus.chunk import chunk_documents, load_chunks
    from embedtune.retrieval.bm25 import BM25Retriever
    from embedtune.retrieval.dense import DenseRetriever
    from embedtune.retrieval.embedding_cache import default_cache_dir
    from embedtune.retrieval.hybrid import HybridRetriever
    from embedtune.teach.reranker import TeacherReranker
    from embedtune.teach.score_cache import ScoreCache
    from embedtune.teach.stage import load_scorers, score_cache_path, signal_models
    from embedtune.teach.teachers import plan_teacher

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    cfg = config or TeachConfig()
    chunks = load_chunks(ws)
    docs = chunk_documents(chunks)
    plan = plan_teacher(cfg)
    dense = DenseRetriever(base_model, cache_dir=default_cache_dir(ws.root), runner=runner)
    hybrid = HybridRetriever([BM25Retriever(), dense], depth=FIRST_STAGE_DEPTH)
    hybrid.index(docs)
    first = hybrid.search(queries, FIRST_STAGE_DEPTH)
    if exclude_docs:
        excluded = set(exclude_docs)
        allowed = {c.id for c in chunks if not excluded.intersection(c.doc_ids)}
        first = {q: {c: s for c, s in run.items() if c in allowed} for q, run in first.items()}
    console.print(f"labelling {len(queries):,} queries with {plan.describe()} over the hybrid top {LABEL_TOP_N}",
                  highlight=False)
    reranker = TeacherReranker(plan, cfg, load_scorers(plan, cfg, dense.model), bm25=hybrid.retrievers[0],
                               ids=[d.id for d in docs], cache=ScoreCache(score_cache_path(ws)),
                               models=signal_models(plan, base_model))
    return reranker.rerank(queries, first, {d.id: d.text for d in docs}, LABEL_TOP_N, k=LABEL_TOP_N), chunks, plan


def label_queries(
    workspace: Workspace | str | Path, queries: str | Path, out: str | Path, config: TeachConfig | None = None,
    base_model: str = "all-MiniLM-L6-v2", *, runner: Runner = LOCAL,
) -> LabelResult:
    """Write ``out``: one ``{query_id, query, doc_id, chunk_id, teacher_score}`` row per query, the document of
    the chunk the teacher puts first among the base hybrid's top ``LABEL_TOP_N`` (:func:`rank_with_teacher`).

    Args:
        workspace: a workspace after ``ingest`` (its chunks are the candidates).
        queries: the unlabelled queries (:func:`read_unlabelled`).
        out: the labelled-pairs JSONL to write (atomically); pass it as ``generate.labelled``.
        config: the teacher (``teacher``, ``cross_encoder``, ``dense``, lengths, batch size).
        base_model: the model whose vectors give the hybrid's dense half.
        runner: loads the base model and encodes the corpus (cached in the workspace).
    """
    texts = read_unlabelled(queries)
    taught, chunks, plan = rank_with_teacher(workspace, texts, config, base_model, runner=runner)
    doc_of = {c.id: c.doc_id for c in chunks}
    rows = []
    for qid, run in taught.items():
        if run:
            top = ranked(run)[0]
            rows.append({"query_id": qid, "query": texts[qid], "doc_id": doc_of[top], "chunk_id": top,
                         "teacher_score": round(float(run[top]), 4)})
    write_jsonl(Path(out), rows)
    return LabelResult(Path(out), len(texts), len(rows), plan.describe())
