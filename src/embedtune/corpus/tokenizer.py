"""The embedding model's tokenizer and sequence limit, loaded without the model weights (fast).

Chunks are measured with the same tokenizer the model will use, so none is silently truncated when
embedded. The limit is what sentence-transformers would use: ``sentence_bert_config.json``, else the
tokenizer's ``model_max_length``, else the model's ``max_position_embeddings``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from embedtune.errors import EmbedtuneError
from embedtune.hashing import sha256_file, sha256_text
from embedtune.models import resolve_model

_FALLBACK_LIMIT = 512
_UNSET_LIMIT = 100_000  # transformers' "no limit" placeholder is ~1e30


@dataclass(frozen=True)
class ModelTokenizer:
    tokenizer: Tokenizer
    max_tokens: int  # what the model reads at most, special tokens included
    n_special: int  # tokens the model adds to every input ([CLS] and [SEP] for BERT)
    name: str
    fingerprint: str

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text as the model sees it, special tokens included."""
        return [len(e.ids) for e in self.tokenizer.encode_batch_fast(list(texts))]

    def truncate(self, text: str, max_tokens: int) -> str:
        """``text`` cut after its first ``max_tokens`` tokens (special tokens not counted)."""
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        return text if len(enc.ids) <= max_tokens else text[: enc.offsets[max_tokens - 1][1]]


def _read_json(path: Path) -> Any:
    """The parsed file, or None when it is absent or unreadable (then defaults apply)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _transformer_dir(model_dir: Path) -> Path:
    """Folder of the Transformer module: the model root for most sentence-transformers models."""
    for module in _read_json(model_dir / "modules.json") or []:
        if str(module.get("type", "")).endswith("Transformer"):
            return model_dir / module.get("path", "")
    return model_dir


def _limit(folder: Path) -> int:
    for name, key in (
        ("sentence_bert_config.json", "max_seq_length"),
        ("tokenizer_config.json", "model_max_length"),
        ("config.json", "max_position_embeddings"),
    ):
        value = (_read_json(folder / name) or {}).get(key)
        if isinstance(value, int) and 0 < value < _UNSET_LIMIT:
            return value
    return _FALLBACK_LIMIT


def _load(folder: Path) -> Tokenizer:
    if (folder / "tokenizer.json").exists():
        return Tokenizer.from_file(str(folder / "tokenizer.json"))
    from transformers import AutoTokenizer  # slow import; only for models without tokenizer.json

    try:
        return AutoTokenizer.from_pretrained(str(folder), use_fast=True).backend_tokenizer
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise EmbedtuneError(f"{folder}: no tokenizer found (tokenizer.json, or files transformers can load)") from None


def load_tokenizer(model: str | Path) -> ModelTokenizer:
    """The tokenizer of ``model`` (registry name, folder, or cached hub id) with its sequence limit."""
    model_dir = resolve_model(model)
    if not model_dir.is_dir():
        raise EmbedtuneError(f"{model}: not an embedding model folder")
    folder = _transformer_dir(model_dir)
    tokenizer = _load(folder)
    # The splitter and our counts must see whole texts, not the model's truncated/padded view.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    files = sorted(p for p in folder.iterdir() if p.name.startswith(("tokenizer", "vocab", "special_tokens")))
    fingerprint = sha256_text("".join(f"{p.name}:{sha256_file(p)}" for p in files))
    return ModelTokenizer(
        tokenizer=tokenizer,
        max_tokens=_limit(folder),
        n_special=len(tokenizer.encode("").ids),
        name=str(model),
        fingerprint=fingerprint,
    )
