"""Load and validate a retrieval test collection in BEIR layout.

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``, ``text``) and
``qrels/<split>.tsv`` (``query-id corpus-id score``, a header line optional; TREC's four-column
``qid 0 docid score`` is accepted too). Scores are graded relevance: > 0 is relevant, 0 (or less) is a judged
non-relevant document.

Every problem is reported as one line naming the file (and line). Judgments pointing at documents or queries
that the folder does not contain are dropped with a warning that counts them (a corpus subset or a stale
qrels file is common and the rest stays usable); if *every* judgment dangles the folder is rejected, since
then the corpus or split is the wrong one. Judged queries that end up without a relevant document cannot be
scored: how many are left out is said too, so an eval that silently shrank to a handful of queries cannot
pass for the whole split. Warnings are printed when the folder is loaded and kept in ``warnings`` (and the
counts in ``dropped``) for reports.

Reference: Thakur et al., "BEIR: A Heterogeneous Benchmark for Zero-shot Evaluation of Information Retrieval
Models" (NeurIPS 2021 Datasets and Benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape

from embedtune.errors import InputError
from embedtune.hashing import sha256_file
from embedtune.progress import console
from embedtune.retrieval.base import Document
from embedtune.workspace.atomic import read_jsonl
from embedtune.workspace.beir_format import Qrels, load_qrels, load_queries

__all__ = ["BeirDataset", "Qrels", "available_splits", "load_beir", "load_corpus", "load_qrels", "load_queries",
           "qrels_file", "read_queries_file", "split_fingerprint"]

LAYOUT = "a BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv"
CORPUS_FILE, QUERIES_FILE = "corpus.jsonl", "queries.jsonl"  # a BEIR folder's, not a workspace's


@dataclass
class BeirDataset:
    """One split of a BEIR collection, validated: every judged query has text, every judged doc exists."""

    name: str
    split: str
    corpus: list[Document]
    queries: dict[str, str]
    qrels: Qrels
    warnings: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)  # what was left out -> how many

    @property
    def no_relevant(self) -> list[str]:
        """Judged queries whose judgments are all non-relevant (score <= 0): they cannot be scored."""
        return [q for q, docs in self.qrels.items() if not any(s > 0 for s in docs.values())]

    @property
    def evaluable_queries(self) -> dict[str, str]:
        """Queries of this split with at least one relevant document, in qrels order."""
        empty = set(self.no_relevant)
        return {q: self.queries[q] for q in self.qrels if q not in empty}


def available_splits(path: str | Path) -> list[str]:
    """Split names that have a ``qrels/<split>.tsv`` file."""
    return sorted(p.stem for p in (Path(path) / "qrels").glob("*.tsv"))


def qrels_file(split: str) -> str:
    """The judgments of ``split``, relative to a BEIR folder."""
    return f"qrels/{split}.tsv"


def split_fingerprint(path: str | Path, split: str) -> dict[str, str]:
    """sha256 of the files one split is read from, by their path in the folder: a stage's inputs.

    A missing file raises :func:`load_beir`'s one-line error naming it.
    """
    root = Path(path)
    files = {name: root / name for name in (CORPUS_FILE, QUERIES_FILE, qrels_file(split))}
    if not all(p.is_file() for p in files.values()):
        load_beir(root, split, warn=False)
    return {name: sha256_file(p) for name, p in files.items()}


def load_corpus(path: str | Path) -> list[Document]:
    """Documents of a ``corpus.jsonl``, in file order; a missing ``_id`` or a duplicate id is an error."""
    docs: list[Document] = []
    seen: set[str] = set()
    for line, row in enumerate(read_jsonl(path), 1):
        doc_id = row.get("_id")
        if doc_id is None or str(doc_id) == "":
            raise InputError(path, "document without an _id", line=line)
        doc_id = str(doc_id)
        if doc_id in seen:
            raise InputError(path, f"duplicate document _id {doc_id!r}", line=line)
        seen.add(doc_id)
        docs.append(Document(id=doc_id, text=str(row.get("text") or ""), title=str(row.get("title") or "")))
    if not docs:
        raise InputError(path, "the corpus is empty")
    return docs


def read_queries_file(path: str | Path, *, need_ids: bool = True) -> dict[str, str]:
    """``{query id: text}`` of a BEIR ``queries.jsonl`` (``_id``, ``text``) or a text file, one query a line.

    The one reader of user-given query files (shadow comparison queries, prompt examples, eval queries to keep
    out of training). Blank queries are skipped; lines of a text file get ids ``"1"``, ``"2"``, ... (their
    numbers among the non-blank lines); ``.jsonl`` rows get their line numbers when ``need_ids`` is off.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "queries file not found")
    if p.suffix == ".jsonl":
        rows: list[tuple[str, str]] = []
        for line, row in enumerate(read_jsonl(p), 1):
            if not isinstance(row.get("text"), str):
                raise InputError(p, 'expected a "text" field on each line', line=line)
            qid = row.get("_id") if need_ids else line
            if qid is None or str(qid) == "":
                raise InputError(p, "query without an _id", line=line)
            rows.append((str(qid), row["text"]))
        queries = {q: t for q, t in rows if t.strip()}
    else:
        try:
            lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
        except UnicodeDecodeError:
            raise InputError(p, "not UTF-8 text") from None
        except OSError as e:
            raise InputError(p, f"cannot read ({e})") from None
        queries = {str(i): ln for i, ln in enumerate((ln for ln in lines if ln), 1)}
    if not queries:
        raise InputError(p, "no queries in file")
    return queries


def load_beir(path: str | Path, split: str = "test", warn: bool = True) -> BeirDataset:
    """Load one split of a BEIR folder, keeping only the queries judged in that split.

    ``warn``: print each warning (on stderr) as well as returning it; off for callers that print them.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError(root, f"no such dataset folder ({LAYOUT})")
    for name in (CORPUS_FILE, QUERIES_FILE):
        if not (root / name).is_file():
            raise InputError(root / name, f"missing ({LAYOUT})")
    qrels_path = root / qrels_file(split)
    if not qrels_path.is_file():
        have = ", ".join(available_splits(root)) or "none"
        raise InputError(qrels_path, f"no qrels for split {split!r} (splits here: {have})")

    corpus = load_corpus(root / CORPUS_FILE)
    all_queries = load_queries(root / QUERIES_FILE)
    raw = load_qrels(qrels_path)
    n_lines = sum(len(d) for d in raw.values())
    if n_lines == 0:
        raise InputError(qrels_path, f"split {split!r} has no judgments")

    doc_ids = {d.id for d in corpus}
    warnings: list[str] = []
    unknown_docs = sum(d not in doc_ids for docs in raw.values() for d in docs)
    unknown_queries = [q for q in raw if q not in all_queries]
    if unknown_docs == n_lines:
        raise InputError(qrels_path, f"none of its {n_lines:,} judgments points at a document in corpus.jsonl "
                                     f"(wrong corpus for this qrels file?)")
    if len(unknown_queries) == len(raw):
        raise InputError(qrels_path, f"none of its {len(raw):,} query ids is in queries.jsonl "
                                     f"(wrong queries file for this qrels file?)")
    if unknown_docs:
        warnings.append(f"{qrels_path}: dropped {unknown_docs:,} of {n_lines:,} judgments whose corpus-id is not "
                        f"in corpus.jsonl")
    if unknown_queries:
        warnings.append(f"{qrels_path}: dropped {len(unknown_queries):,} judged queries missing from queries.jsonl "
                        f"(e.g. {unknown_queries[0]!r})")
    qrels = {
        q: {d: g for d, g in docs.items() if d in doc_ids}
        for q, docs in raw.items()
        if q in all_queries
    }
    dataset = BeirDataset(
        name=root.resolve().name,
        split=split,
        corpus=corpus,
        queries={q: all_queries[q] for q in qrels},
        qrels=qrels,
        warnings=warnings,
    )
    if not dataset.evaluable_queries:
        raise InputError(qrels_path, f"split {split!r} has no query with a relevant document (score > 0)")
    _count_left_out(dataset, qrels_path, raw, unknown_docs, len(unknown_queries))
    if warn:
        for w in dataset.warnings:
            console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    return dataset


def _count_left_out(data: BeirDataset, qrels_path: Path, raw: Qrels, unknown_docs: int, unknown_queries: int) -> None:
    """Fill ``data.dropped`` and warn when fewer queries can be scored than the split judges."""
    lost = sum(1 for docs in data.qrels.values() if not docs)  # every judged document missing from the corpus
    unscorable = len(data.no_relevant) - lost
    data.dropped = {
        "judgments with an unknown document": unknown_docs,
        "judged queries missing from queries.jsonl": unknown_queries,
        "queries whose judged documents are all missing": lost,
        "queries with no relevant document": unscorable,
    }
    n = len(data.evaluable_queries)
    if n < len(raw):
        reasons = [f"{unknown_queries:,} have no text", f"{lost:,} lost every judged document",
                   f"{unscorable:,} judge nothing relevant"]
        data.warnings.append(
            f"{qrels_path}: only {n:,} of the {len(raw):,} judged queries of split {data.split!r} can be scored ("
            + ", ".join(r for r in reasons if not r.startswith("0 ")) + ")"
        )
