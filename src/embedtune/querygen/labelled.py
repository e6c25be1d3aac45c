"""Real training queries a user already has: labelled (query, relevant document) pairs as training signal.

Two layouts are read: a BEIR folder (``queries.jsonl`` + ``qrels/<split>.tsv``, graded relevance; grade 0 is
"judged not relevant" and ignored) or a JSONL file of ``{"query": ..., "doc_id": ...}`` /
``{"query": ..., "doc_ids": [...]}`` rows. Labels name documents; training needs chunks, so each relevant
document contributes the one chunk of it that shares the most words with the query (the whole document when
it is a single chunk, as most are). Human queries are the truth the synthetic ones imitate: they skip the
synthetic-query filters except the eval-contamination check.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from embedtune.corpus.chunk import Chunk
from embedtune.errors import EmbedtuneError, InputError
from embedtune.querygen.query import Query
from embedtune.workspace import read_jsonl

STYLE, BACKEND = "labelled", "human"
_WORD = re.compile(r"\w+")


def _read_beir(folder: Path, split: str) -> list[tuple[str, str, list[str]]]:
    from embedtune.evaluation.beir import QUERIES_FILE, load_qrels, load_queries, qrels_file

    qrels_path = folder / qrels_file(split)
    if not qrels_path.exists():
        raise EmbedtuneError(f"{qrels_path}: no such qrels file (labelled split {split!r})")
    texts, qrels = load_queries(folder / QUERIES_FILE), load_qrels(qrels_path)
    return [(qid, texts[qid], [d for d, g in judged.items() if g > 0])
            for qid, judged in qrels.items() if qid in texts]


def _read_pairs(path: Path) -> list[tuple[str, str, list[str]]]:
    rows: dict[str, tuple[str, str, list[str]]] = {}
    for line, row in enumerate(read_jsonl(path), 1):
        text = row.get("query")
        docs = row.get("doc_ids", [row["doc_id"]] if "doc_id" in row else None)
        if not isinstance(text, str) or not text.strip():
            raise InputError(path, "row without a query text", line=line)
        if not isinstance(docs, list) or not docs:
            raise InputError(path, "row needs 'doc_id' or a non-empty 'doc_ids' list", line=line)
        qid = str(row.get("query_id") or row.get("id") or text)
        old = rows.get(qid)
        rows[qid] = (qid, text, [*(old[2] if old else []), *map(str, docs)])
    return list(rows.values())


def read_labelled(path: str | Path, split: str = "train") -> list[tuple[str, str, list[str]]]:
    """``(query id, text, relevant doc ids)`` from a BEIR folder or a pairs JSONL file."""
    path = Path(path)
    if not path.exists():
        raise EmbedtuneError(f"{path}: no such labelled queries file or folder")
    return _read_beir(path, split) if path.is_dir() else _read_pairs(path)


def _best_chunk(query: str, candidates: list[Chunk]) -> Chunk:
    if len(candidates) == 1:
        return candidates[0]
    words = set(_WORD.findall(query.lower()))
    return max(candidates, key=lambda c: len(words & set(_WORD.findall(c.text.lower()))))


def labelled_queries(chunks: list[Chunk], path: str | Path, split: str = "train") -> tuple[list[Query], int]:
    """Training queries from labels, and the number of labelled documents not in the corpus.

    A query with several relevant documents becomes one query whose extra positives are
    ``related_chunk_ids``, so mining never uses one of its relevant documents as a negative.
    """
    by_doc: dict[str, list[Chunk]] = defaultdict(list)
    for c in chunks:
        for d in c.doc_ids:
            by_doc[d].append(c)
    queries: list[Query] = []
    missing = 0
    for qid, text, docs in read_labelled(path, split):
        picked = []
        for d in docs:
            if d in by_doc:
                picked.append(_best_chunk(text, by_doc[d]))
            else:
                missing += 1
        if picked:
            ids = list(dict.fromkeys(c.id for c in picked))
            queries.append(Query(id=f"labelled-{qid}", text=text, chunk_id=ids[0], doc_id=picked[0].doc_id,
                                 style=STYLE, backend=BACKEND, related_chunk_ids=ids[1:]))
    return queries, missing
