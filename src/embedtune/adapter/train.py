"""Train a query-only adapter against the frozen corpus vectors of the base model.

The corpus is never encoded here: its vectors are read from the workspace's embedding cache (written by the
baseline, eval and mine stages with the base model; the same vectors an index built with that model holds), or
passed in. Only the training queries (and the dev queries that pick the epoch) are encoded, once, by the base
model; then a small map on query vectors is trained with InfoNCE (in-batch positives + mined negatives) at
every Matryoshka dim, plus KL to the teacher's labels where ``train_teacher.jsonl`` exists. See
:class:`embedtune.adapter.QueryAdapter` for what it is and when to use it.
"""

from __future__ import annotations

import copy
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedtune.adapter.config import AdapterConfig
from embedtune.adapter.model import FORMAT, META_FILE, WEIGHTS_FILE, QueryAdapter, build_module
from embedtune.errors import EmbedtuneError
from embedtune.hashing import fingerprint_paths
from embedtune.retrieval import embedding_cache as ec
from embedtune.retrieval.base import Document, corpus_hash
from embedtune.workspace import Workspace, read_jsonl
from embedtune.workspace.manifest import utcnow

STAGE = "adapter"
ADAPTER_DIR = "adapter"
TRIPLETS_FILE = "train_triplets.jsonl"
TEACHER_FILE = "train_teacher.jsonl"
PAIRS_FILE = "train_pairs.jsonl"
DEV_FILE = "dev_pairs.jsonl"
MAX_DEV_QUERIES = 500


@dataclass
class AdapterResult:
    """What :func:`train_adapter` wrote (or found current: ``reused``).

    ``seconds`` is the training itself; ``query_encode_seconds`` the base model encoding the training and dev
    queries (the corpus is never encoded). ``history`` has the mean dev NDCG@10 over the dims per epoch,
    epoch 0 being the identity (base); ``best_epoch`` 0 means nothing beat base on dev and the identity is kept.
    """

    path: Path
    adapter: QueryAdapter
    rows: int = 0
    source: str = ""
    distill: bool = False
    dims: list[int] = field(default_factory=list)
    best_epoch: int | None = None
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    query_encode_seconds: float = 0.0
    reused: bool = False


@dataclass
class _Row:
    query: int  # index into the unique query texts
    positive: int  # corpus row
    negatives: list[int]
    labels: list[float] | None  # teacher labels for [positive, *negatives]


def cached_corpus_vectors(model, model_hash: str, docs: list[Document], cache_dir: Path) -> ec.CorpusEmbeddings | None:
    """The base model's cached vectors of ``docs`` (this backend's entry, else the fp32 one); never encodes."""
    from embedtune.encoding import vectors_tag

    ids = [d.id for d in docs]
    for tag in dict.fromkeys([vectors_tag(model), None]):
        key = ec.corpus_cache_key(model_hash, docs, model.max_seq_length, True, tag)
        if (found := ec.load_corpus_embeddings(cache_dir / f"{key}.npy", ids)) is not None:
            return found
    return None


def _read_rows(ws: Workspace, cfg: AdapterConfig) -> tuple[list[dict], str, bool]:
    teacher = ws.path(TEACHER_FILE)
    distill = cfg.distill == "kl" or (cfg.distill == "auto" and teacher.exists())
    if distill:
        if not teacher.exists():
            raise EmbedtuneError(f"{teacher}: adapter.distill kl needs teacher labels; run `embedtune teach` first")
        return list(read_jsonl(teacher)), TEACHER_FILE, True
    if ws.path(TRIPLETS_FILE).exists():
        return list(read_jsonl(ws.path(TRIPLETS_FILE))), TRIPLETS_FILE, False
    if not ws.path(PAIRS_FILE).exists():
        raise EmbedtuneError(f"{ws.root}: no training rows ({TRIPLETS_FILE} or {PAIRS_FILE}); run `embedtune split`")
    rows = [{"query": p["query"], "positive_id": str(pid), "negative_ids": []}
            for p in read_jsonl(ws.path(PAIRS_FILE)) for pid in p.get("positive_ids", [])]
    return rows, PAIRS_FILE, False


def _training_rows(raw: list[dict], cfg: AdapterConfig, index: dict[str, int], distill: bool
                   ) -> tuple[list[_Row], list[str], dict[int, set[int]]]:
    """Rows with corpus indices, the unique query texts, and every known positive of each query (masked as
    in-batch negatives of that query)."""
    texts: dict[str, int] = {}
    positives: dict[int, set[int]] = defaultdict(set)
    rows: list[_Row] = []
    for r in raw:
        try:
            query, pos, negs = r["query"], str(r["positive_id"]), [str(n) for n in r.get("negative_ids", [])]
        except (KeyError, TypeError):
            raise EmbedtuneError("a training row lacks query / positive_id (written by an older embedtune?)") from None
        if pos not in index:
            continue
        labels = [float(x) for x in r["labels"]] if distill else None
        keep = [i for i, n in enumerate(negs) if n in index]
        if not distill:
            keep = keep[: cfg.hard_negatives]
        q = texts.setdefault(query, len(texts))
        positives[q].add(index[pos])
        positives[q].update(index[p] for p in r.get("relabelled_positive_ids", []) if p in index)
        rows.append(_Row(q, index[pos], [index[negs[i]] for i in keep],
                         [labels[0], *(labels[1 + i] for i in keep)] if labels is not None else None))
    if not rows:
        raise EmbedtuneError("no training row's positive is among the workspace's chunks: nothing to train on")
    return rows, list(texts), positives


def ndcg_at_10(query_vecs: np.ndarray, corpus: np.ndarray, relevant: list[set[int]], dims: list[int]) -> list[float]:
    """Mean binary NDCG@10 over chunk ids at each dim (exact search): the dev score that picks the epoch."""
    from embedtune.retrieval.dense import exact_search, truncate_dims

    out = []
    discounts = 1.0 / np.log2(np.arange(2, 12))
    for d in dims:
        idx, _ = exact_search(truncate_dims(query_vecs, d), truncate_dims(corpus, d), 10)
        scores = []
        for row, rel in zip(idx, relevant):
            gains = np.array([1.0 if j in rel else 0.0 for j in row])
            ideal = discounts[: min(len(rel), 10)].sum()
            scores.append(float((gains * discounts[: len(gains)]).sum() / ideal) if ideal else 0.0)
        out.append(float(np.mean(scores)) if scores else 0.0)
    return out


def _dev_set(ws: Workspace, index: dict[str, int], seed: int) -> tuple[list[str], list[set[int]]]:
    path = ws.path(DEV_FILE)
    if not path.exists():
        return [], []
    rows = [(r["query"], {index[str(p)] for p in r.get("positive_ids", []) if str(p) in index}) for r in read_jsonl(path)]
    rows = [(q, rel) for q, rel in rows if rel]
    if len(rows) > MAX_DEV_QUERIES:
        rows = random.Random(seed).sample(rows, MAX_DEV_QUERIES)
    return [q for q, _ in rows], [rel for _, rel in rows]


def resolved_dims(cfg: AdapterConfig, model_dim: int) -> list[int]:
    """The Matryoshka dims to train at, largest first (the full dim always included)."""
    if cfg.dims:
        if too_big := [d for d in cfg.dims if d > model_dim or d < 1]:
            raise EmbedtuneError(f"adapter.dims {too_big} are outside the model's 1..{model_dim} dimensions")
        return sorted({model_dim, *cfg.dims}, reverse=True)
    dims, d = [model_dim], model_dim // 2
    while d >= 64:
        dims.append(d)
        d //= 2
    return dims


def train_adapter(
    workspace: Workspace | str | Path,
    config: AdapterConfig | None = None,
    *,
    out: str | Path | None = None,
    cache_dir: str | Path | None = None,
    corpus_vectors: np.ndarray | None = None,
    encode_corpus_if_missing: bool = False,
) -> AdapterResult:
    """Train a query-only adapter on a workspace's training rows; the corpus vectors stay frozen.

    Args:
        workspace: a workspace after ``split`` (``train_pairs.jsonl``), best after ``mine`` (mined negatives)
            and ``teach`` (teacher labels, distilled with KL).
        config: :class:`AdapterConfig`; ``base_model`` must be the model that made the corpus vectors.
        out: where to save it; default ``<workspace>/adapter``.
        cache_dir: the embedding cache holding the base model's corpus vectors; default ``<workspace>/cache/embeddings``.
        corpus_vectors: the corpus vectors themselves (rows in ``chunks.jsonl`` order, full width), e.g. read from
            an index; then the cache is not read.
        encode_corpus_if_missing: encode the corpus once with the base model when no cache entry exists (it is then
            cached); by default that is an error, since the point is never to embed the corpus.

    Returns:
        :class:`AdapterResult`; when the workspace's ``adapter`` stage is current, the saved adapter (``reused``).

    Example::

        from embedtune.adapter import AdapterConfig, train_adapter
        result = train_adapter("embedtune-runs/default", AdapterConfig(base_model="all-MiniLM-L6-v2"))
        print(result.path, result.best_epoch, result.seconds)
    """
    from embedtune.corpus import load_chunks
    from embedtune.models import load_embedder, resolve_model

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    cfg = config or AdapterConfig()
    target = Path(out) if out is not None else ws.path(ADAPTER_DIR)
    cache = Path(cache_dir) if cache_dir is not None else ec.default_cache_dir(ws.root)
    model_path = resolve_model(cfg.resolved_base_model()).resolve()
    model_hash = ec.model_fingerprint(model_path)
    files = [ws.path(f) for f in ("chunks.jsonl", TEACHER_FILE, TRIPLETS_FILE, PAIRS_FILE, DEV_FILE)]
    inputs = fingerprint_paths([f for f in files if f.exists()])
    params = {"format": FORMAT, "base_model": model_hash, "config": cfg.model_dump(), "out": str(target.resolve()),
              "given_vectors": corpus_vectors is not None}
    if out is None and ws.is_current(STAGE, inputs, params):
        return AdapterResult(target, QueryAdapter.load(target), reused=True)

    chunks = load_chunks(ws)
    docs = [Document(c.id, c.text) for c in chunks]
    index = {d.id: i for i, d in enumerate(docs)}
    model = load_embedder(model_path, inference=cfg.inference)
    if corpus_vectors is None:
        found = cached_corpus_vectors(model, model_hash, docs, cache)
        if found is None and encode_corpus_if_missing:
            found = ec.encode_corpus(model, docs, cache, model_hash=model_hash)
        if found is None:
            raise EmbedtuneError(
                f"no cached vectors of {model_path.name} for the {len(docs):,} chunks of {ws.root} in {cache}: the adapter "
                "trains against the corpus vectors the base model already made (run `embedtune baseline` or `eval` with "
                "it first, pass the index's vectors as corpus_vectors, or allow one corpus encoding with encode_corpus_if_missing)"
            )
        corpus_vectors = found.vectors
    corpus = np.ascontiguousarray(corpus_vectors, dtype=np.float32)
    if corpus.shape[0] != len(docs):
        raise EmbedtuneError(f"corpus vectors have {corpus.shape[0]:,} rows for {len(docs):,} chunks")
    model_dim = corpus.shape[1]
    dims = resolved_dims(cfg, model_dim)

    raw, source, distill = _read_rows(ws, cfg)
    if cfg.max_rows is not None and len(raw) > cfg.max_rows:
        raw = random.Random(cfg.seed).sample(raw, cfg.max_rows)
    rows, query_texts, positives = _training_rows(raw, cfg, index, distill)
    dev_texts, dev_relevant = _dev_set(ws, index, cfg.seed) if cfg.select_on_dev else ([], [])

    t0 = time.perf_counter()
    queries = ec.encode_texts(model, query_texts, "query", normalize=True, description="encoding training queries")
    dev_vecs = ec.encode_texts(model, dev_texts, "query", normalize=True, progress=False) if dev_texts else None
    encode_s = time.perf_counter() - t0
    if queries.shape[1] != model_dim:
        raise EmbedtuneError(f"query vectors have {queries.shape[1]} dims, the corpus vectors {model_dim}: another model?")

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batches of small matrix products: extra threads only wait on each other (200x slower
    t0 = time.perf_counter()  # on 2 busy cores, measured)
    try:
        module, best_epoch, history = _fit(rows, queries, corpus, positives, dims, cfg, dev_vecs, dev_relevant)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - t0

    meta = {
        "format": FORMAT, "kind": cfg.kind, "dim": model_dim, "hidden": cfg.hidden, "dims": dims,
        "base_model": cfg.resolved_base_model(), "base_model_path": str(model_path), "base_model_hash": model_hash,
        "corpus_hash": corpus_hash(docs), "created_at": utcnow(),
        "train": {"rows": len(rows), "source": source, "distill": distill, "best_epoch": best_epoch,
                  "dev_ndcg@10": history, "seconds": round(seconds, 3), "query_encode_seconds": round(encode_s, 3),
                  "config": cfg.model_dump()},
    }
    adapter = QueryAdapter(module, meta)
    if out is not None:
        adapter.save(target)
    else:
        with ws.stage(STAGE, inputs, params) as run:
            run.add_output(f"{ADAPTER_DIR}/{WEIGHTS_FILE}")
            run.add_output(f"{ADAPTER_DIR}/{META_FILE}")
            adapter.save(target)
            run.record.summary = {"rows": len(rows), "best_epoch": best_epoch, "seconds": round(seconds, 1)}
    return AdapterResult(target, adapter, len(rows), source, distill, dims, best_epoch, history, seconds, encode_s)


def _fit(rows: list[_Row], queries: np.ndarray, corpus: np.ndarray, positives: dict[int, set[int]], dims: list[int],
         cfg: AdapterConfig, dev_vecs: np.ndarray | None, dev_relevant: list[set[int]]):
    """The training loop; returns the module in its best state, the best epoch (None without dev) and the dev history."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    module = build_module(cfg.kind, corpus.shape[1], cfg.hidden)
    optimizer = torch.optim.AdamW(module.parameters(), lr=cfg.learning_rate, weight_decay=0.0)
    Q, C = torch.from_numpy(queries), torch.from_numpy(corpus)

    def dev_score() -> float:
        adapted = QueryAdapter(module, {"dim": corpus.shape[1]}).apply(dev_vecs)
        return float(np.mean(ndcg_at_10(adapted, corpus, dev_relevant, dims)))

    history = [dev_score()] if dev_vecs is not None else []
    best_state, best_epoch = copy.deepcopy(module.state_dict()), 0
    order = list(range(len(rows)))
    for epoch in range(1, cfg.epochs + 1):
        module.train()
        rng.shuffle(order)
        for start in range(0, len(order), cfg.batch_size):
            batch = [rows[i] for i in order[start : start + cfg.batch_size]]
            cand = list(dict.fromkeys([r.positive for r in batch] + [n for r in batch for n in r.negatives]))
            col = {c: j for j, c in enumerate(cand)}
            target = torch.tensor([col[r.positive] for r in batch])
            mask = torch.zeros(len(batch), len(cand), dtype=torch.bool)  # other known positives of the row's query
            for i, r in enumerate(batch):
                for p in positives[r.query]:
                    if p in col and p != r.positive:
                        mask[i, col[p]] = True
            q = module(Q[[r.query for r in batch]])
            c = C[cand]
            loss = torch.zeros(())
            for d in dims:
                qd, cd = F.normalize(q[:, :d], dim=1), F.normalize(c[:, :d], dim=1)
                logits = (cfg.scale * qd @ cd.T).masked_fill(mask, float("-inf"))
                loss = loss + F.cross_entropy(logits, target)
                if batch[0].labels is not None and cfg.distill_weight > 0:
                    loss = loss + cfg.distill_weight * _kl(batch, qd, cd, col, cfg)
            loss = loss / len(dims) + cfg.identity_weight * module.identity_distance()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if dev_vecs is not None:
            history.append(dev_score())
            if history[-1] > history[best_epoch] + 1e-9:
                best_state, best_epoch = copy.deepcopy(module.state_dict()), epoch
    if dev_vecs is None:
        return module, None, history
    module.load_state_dict(best_state)
    return module, best_epoch, history


def _kl(batch: list[_Row], qd, cd, col: dict[int, int], cfg: AdapterConfig):
    """Listwise KL from the teacher's distribution over [positive, negatives] to the adapter's, per row."""
    import torch
    import torch.nn.functional as F

    width = max(1 + len(r.negatives) for r in batch)
    idx = torch.zeros(len(batch), width, dtype=torch.long)
    teacher = torch.full((len(batch), width), float("-inf"))
    for i, r in enumerate(batch):
        ids = [r.positive, *r.negatives]
        idx[i, : len(ids)] = torch.tensor([col[j] for j in ids])
        teacher[i, : len(ids)] = torch.tensor(r.labels) / cfg.teacher_temperature
    valid = torch.isfinite(teacher)
    student = cfg.scale * torch.gather(qd @ cd.T, 1, idx)
    log_student = F.log_softmax(student.masked_fill(~valid, float("-inf")), dim=1)
    p = F.softmax(teacher, dim=1)
    terms = torch.where(valid, p * (torch.log(p.clamp_min(1e-12)) - log_student), torch.zeros(()))
    return terms.sum(dim=1).mean()
