"""Splitting by document, dev carve-out, real eval sets, and the near-duplicate leakage check."""

from __future__ import annotations

from embedtune.dataset import SplitConfig, TrainQuery, split_queries
from embedtune.dataset.leakage import find_near_duplicates
from embedtune.workspace import read_jsonl


def _corpus(n_docs: int = 50, chunks_per_doc: int = 2):
    chunk_doc = {f"d{d}-c{c}": f"d{d}" for d in range(n_docs) for c in range(chunks_per_doc)}
    chunk_source = {c: f"{'archive' if d.startswith('d1') else 'live'}/{d}.md" for c, d in chunk_doc.items()}
    queries = [TrainQuery(f"q-{c}", f"topic{i} question{i}", (c,)) for i, c in enumerate(chunk_doc)]
    return chunk_doc, chunk_source, queries


def test_no_chunk_of_an_eval_document_reaches_training():
    chunk_doc, chunk_source, queries = _corpus()
    result = split_queries(queries, chunk_doc, chunk_source, SplitConfig(eval_fraction=0.3, dev_fraction=0.2))
    train_docs = {chunk_doc[c] for q in result.train + result.dev for c in q.positive_ids}
    assert result.eval_docs and not (train_docs & result.eval_docs)
    assert {d for judged in result.eval_qrels.values() for d in judged} <= result.eval_docs
    dev_docs = {chunk_doc[c] for q in result.dev for c in q.positive_ids}
    assert dev_docs and not (dev_docs & {chunk_doc[c] for q in result.train for c in q.positive_ids})
    assert len(result.train) + len(result.dev) + len(result.eval_queries) == len(queries)


def test_split_is_stable_and_seeded():
    chunk_doc, chunk_source, queries = _corpus()
    a = split_queries(queries, chunk_doc, chunk_source)
    b = split_queries(list(reversed(queries)), chunk_doc, chunk_source)
    assert a.eval_docs == b.eval_docs
    assert split_queries(queries, chunk_doc, chunk_source, SplitConfig(seed=1)).eval_docs != a.eval_docs


def test_holdout_by_source_pattern():
    chunk_doc, chunk_source, queries = _corpus()
    result = split_queries(queries, chunk_doc, chunk_source, SplitConfig(holdout_source="archive/*"))
    assert result.eval_docs == {d for d in chunk_doc.values() if d.startswith("d1")}


def test_real_eval_set_keeps_its_judged_documents_out_of_training_unless_transductive():
    chunk_doc, chunk_source, queries = _corpus()
    eval_q, eval_qrels = {"u1": "a real user question"}, {"u1": {"d3": 1, "d4": 0}}
    strict = split_queries(queries, chunk_doc, chunk_source, eval_queries=eval_q, eval_qrels=eval_qrels)
    assert strict.eval_docs == {"d3"} and strict.eval_queries == eval_q
    assert all(chunk_doc[c] != "d3" for q in strict.train + strict.dev for c in q.positive_ids)
    assert any(chunk_doc[c] == "d4" for q in strict.train + strict.dev for c in q.positive_ids)
    loose = split_queries(queries, chunk_doc, chunk_source, SplitConfig(exclude_eval_docs=False), eval_q, eval_qrels)
    assert len(loose.train) + len(loose.dev) == len(queries)


def test_strict_split_warns_when_the_eval_set_judges_most_documents():
    chunk_doc, chunk_source, queries = _corpus(n_docs=10)
    eval_q = {"u1": "a real user question"}
    most = {"u1": {f"d{d}": 1 for d in range(6)}}
    warned = split_queries(queries, chunk_doc, chunk_source, eval_queries=eval_q, eval_qrels=most)
    assert "6 of 10 documents" in warned.report["warning"]
    few = {"u1": {f"d{d}": 1 for d in range(5)}}
    assert "warning" not in split_queries(queries, chunk_doc, chunk_source, eval_queries=eval_q, eval_qrels=few).report
    loose = SplitConfig(exclude_eval_docs=False)
    assert "warning" not in split_queries(queries, chunk_doc, chunk_source, loose, eval_q, most).report


def test_planted_near_duplicate_of_an_eval_query_is_dropped_and_reported():
    chunk_doc, chunk_source, queries = _corpus()
    eval_q = {"u1": "Does vitamin D supplementation reduce fracture risk in older adults?"}
    planted = TrainQuery("leak", "does vitamin D supplementation reduce the fracture risk in older adults", ("d2-c0",))
    result = split_queries([*queries, planted], chunk_doc, chunk_source, eval_queries=eval_q, eval_qrels={"u1": {"d0": 1}})
    assert "leak" not in {q.query_id for q in result.train + result.dev}
    assert result.report["near_duplicates_of_eval_dropped"] == 1
    assert result.report["near_duplicate_examples"][0]["train"] == planted.query


def test_near_duplicate_finder_matches_brute_force():
    import random

    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(40)]
    evals = [" ".join(rng.sample(vocab, rng.randint(3, 9))) for _ in range(60)]
    trains = [" ".join(rng.sample(e.split(), max(1, len(e.split()) - rng.randint(0, 2)))) for e in evals[:30]]
    trains += [" ".join(rng.sample(vocab, 5)) for _ in range(30)]
    for t in (0.5, 0.8):
        brute = sorted(
            (i, j) for i, e in enumerate(evals) for j, tr in enumerate(trains)
            if len(set(e.split()) & set(tr.split())) / len(set(e.split()) | set(tr.split())) >= t
        )
        assert sorted(find_near_duplicates(evals, trains, t)) == brute


def _workspace(tmp_path):
    from embedtune.corpus.chunk import Chunk
    from embedtune.workspace import Workspace, write_jsonl

    ws = Workspace(tmp_path / "ws")
    chunks = [
        Chunk(id=f"c{d}-{i}", doc_id=f"doc{d}", text=f"passage {d} {i}", source=f"corpus/doc{d}.md",
              start_char=0, end_char=10, n_tokens=5)
        for d in range(40) for i in range(2)
    ]
    write_jsonl(ws.path("chunks.jsonl"), (c.model_dump() for c in chunks))
    queries = [
        {"id": f"q{j}", "text": f"subject{j} detail{j}", "chunk_id": c.id, "doc_id": c.doc_id, "style": "question",
         "backend": "offline", "positive_text": None}
        for j, c in enumerate(chunks)
    ]
    write_jsonl(ws.path("queries.jsonl"), queries)
    return ws


def test_split_stage_writes_its_files_and_is_a_noop_when_current(tmp_path):
    from embedtune.dataset import build_split, load_pairs
    from embedtune.evaluation.beir import load_qrels, load_queries

    ws = _workspace(tmp_path)
    result = build_split(ws, SplitConfig(eval_fraction=0.25))
    assert result is not None
    train = load_pairs(ws.path("train_pairs.jsonl"))
    dev = load_pairs(ws.path("dev_pairs.jsonl"))
    eval_q = load_queries(ws.path("eval/queries.jsonl"))
    qrels = load_qrels(ws.path("eval/qrels.tsv"))
    assert len(train) + len(dev) + len(eval_q) == 80 and set(qrels) == set(eval_q)
    assert train[0].source == "offline:question"
    assert ws.stage_record("split").summary["train_queries"] == len(train)
    assert build_split(ws, SplitConfig(eval_fraction=0.25)) is None
    assert build_split(ws, SplitConfig(eval_fraction=0.25), force=True) is not None  # force: runs though current
    assert build_split(ws, SplitConfig(eval_fraction=0.3)) is not None


def test_split_stage_without_queries_says_what_to_run(tmp_path):
    import pytest

    from embedtune.dataset import build_split
    from embedtune.errors import EmbedtuneError

    ws = _workspace(tmp_path)
    ws.path("queries.jsonl").unlink()
    with pytest.raises(EmbedtuneError, match="run `embedtune generate"):
        build_split(ws)


def test_a_chunk_standing_for_an_eval_judged_duplicate_never_reaches_training(tmp_path):
    """Planted leak: ingest kept doc5's copy of a passage that doc-dup also holds; the eval set judges doc-dup.

    Evaluation credits a hit on that chunk to both documents, so training on it trains on an eval document.
    """
    from embedtune.corpus.chunk import Chunk
    from embedtune.dataset import build_split, load_pairs
    from embedtune.workspace import write_jsonl

    ws = _workspace(tmp_path)
    chunks = [Chunk.model_validate(row) for row in read_jsonl(ws.path("chunks.jsonl"))]
    planted = next(c for c in chunks if c.id == "c5-0")
    planted.duplicate_doc_ids = ["doc-dup"]
    write_jsonl(ws.path("chunks.jsonl"), (c.model_dump() for c in chunks))
    build_split(ws, eval_queries={"u1": "a real user question"}, eval_qrels={"u1": {"doc-dup": 1}})
    trained = {p for name in ("train_pairs.jsonl", "dev_pairs.jsonl") for q in load_pairs(ws.path(name))
               for p in q.positive_ids}
    assert "c5-0" not in trained
    assert "c5-1" in trained  # doc5 itself is not judged: its other chunk still trains


def test_documents_sharing_a_deduplicated_chunk_are_held_out_together():
    from embedtune.dataset.split import _bucket

    chunk_doc, chunk_source, queries = _corpus()
    kept = next(d for d in (f"d{i}" for i in range(50)) if _bucket(d, 0, "eval") >= 0.2)
    dropped = next(f"x{i}" for i in range(1000) if _bucket(f"x{i}", 0, "eval") < 0.2)
    docs_of: dict = {**chunk_doc, f"{kept}-c0": [kept, dropped]}  # ingest dropped `dropped`'s copy of this chunk
    result = split_queries(queries, docs_of, chunk_source)
    assert {kept, dropped} <= result.eval_docs
    assert f"q-{kept}-c1" in result.eval_queries  # the kept document's other chunk is held out with it
    assert result.eval_qrels[f"q-{kept}-c0"] == {kept: 1, dropped: 1}
    trained = {c for q in result.train + result.dev for c in q.positive_ids}
    assert not {f"{kept}-c0", f"{kept}-c1"} & trained
