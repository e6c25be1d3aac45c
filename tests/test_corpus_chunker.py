"""Token-aware chunking: the model limit always holds, overlap and boundaries work, ids are stable."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import sample_texts
from transformers import AutoTokenizer

from embedtune.corpus.chunker import Chunker, chunk_id, chunk_sizes
from embedtune.corpus.document import Document
from embedtune.corpus.tokenizer import ModelTokenizer, load_tokenizer
from embedtune.errors import EmbedtuneError

SENTENCES = [
    f"Sentence {i} says the {w} team reviews every request within {i % 7 + 2} days."
    for i, w in enumerate(["finance", "security", "legal", "travel", "payroll", "facilities"] * 8)
]


@pytest.fixture(scope="module")
def tok(tiny_model_dir: Path):
    return load_tokenizer(tiny_model_dir)


@pytest.fixture(scope="module")
def hf_tokenizer(tiny_model_dir: Path):
    """An independent count: the tokenizer as transformers (and so the model) loads it."""
    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


def chunker(tok, chunk_tokens=None, overlap_tokens=None, include_title=True, min_tokens=0) -> Chunker:
    return Chunker(tok, chunk_sizes(tok, chunk_tokens, overlap_tokens, include_title), include_title, min_tokens)


def test_tokenizer_limit_and_specials_from_model_folder(tok):
    assert (tok.max_tokens, tok.n_special) == (128, 2)  # tiny model: max_seq_length 128, [CLS] + [SEP]
    sizes = chunk_sizes(tok, None, None, with_title=True)
    assert (sizes.chunk_tokens, sizes.overlap_tokens) == (128 - 2 - 16, 16)
    assert chunk_sizes(tok, None, None, with_title=False).chunk_tokens == 126
    with pytest.raises(EmbedtuneError, match="at most 126"):
        chunk_sizes(tok, 200, None, True)
    with pytest.raises(EmbedtuneError, match="smaller than the chunk size"):
        chunk_sizes(tok, 50, 50, True)


def test_no_chunk_over_the_limit_including_title_and_specials(tok, hf_tokenizer):
    long_title = " ".join(["Extraordinarily", "comprehensive", "interdisciplinary", "investigation"] * 30)
    docs = [Document(f"d{i}", text, "s.jsonl", title=long_title if i % 3 == 0 else text[:80])
            for i, text in enumerate(sample_texts(60))]
    docs.append(Document("md", "# Head\n\n" + " ".join(SENTENCES), "m.md", title="Guide", markdown=True))
    chunks, _ = chunker(tok).chunk(docs)
    assert len(chunks) > len(docs)  # long abstracts really were split
    counts = [len(ids) for ids in hf_tokenizer([c.text for c in chunks])["input_ids"]]
    assert max(counts) <= 128
    assert counts == [c.n_tokens for c in chunks]  # n_tokens is what the model will see
    assert all(c.title_included and c.text.startswith(c.text.split("\n")[0]) for c in chunks if c.doc_id != "md")
    # The 120-word title was cut so the body keeps most of the room.
    title_lines = [c.text.split("\n")[0] for c in chunks if c.doc_id == "d0"]
    assert all(len(hf_tokenizer(line)["input_ids"]) <= 128 // 4 + 2 for line in title_lines)


def test_chunks_that_still_overflow_are_split_again(tok, hf_tokenizer):
    """Where a title costs more than measured (tokenizers that merge across it), the document is re-split."""

    class Underestimating(ModelTokenizer):
        def count(self, texts):
            return [n - 20 if t.endswith("\nx") else n for t, n in zip(texts, super().count(texts), strict=True)]

    docs = [Document(f"d{i}", text, "s", title=text[:100]) for i, text in enumerate(sample_texts(20))]
    chunks, _ = chunker(Underestimating(**vars(tok))).chunk(docs)
    counts = [len(ids) for ids in hf_tokenizer([c.text for c in chunks])["input_ids"]]
    assert counts == [c.n_tokens for c in chunks] and max(counts) <= 128


def test_offsets_locate_the_body(tok):
    docs = [Document(f"d{i}", text, "a.txt", title="T") for i, text in enumerate(sample_texts(5))]
    for c in chunker(tok).chunk(docs)[0]:
        doc = next(d for d in docs if d.doc_id == c.doc_id)
        assert doc.text[c.start_char : c.end_char] == c.body
        assert c.text == "T\n" + c.body


def test_overlap_shares_text_and_zero_overlap_does_not(tok):
    doc = Document("o", " ".join(SENTENCES), "o.txt")
    with_overlap, _ = chunker(tok, chunk_tokens=60, overlap_tokens=25, include_title=False).chunk([doc])
    assert len(with_overlap) >= 4
    for a, b in pairwise(with_overlap):
        assert b.start_char < a.end_char  # b starts inside a
        assert a.text.endswith(doc.text[b.start_char : a.end_char])
    without, _ = chunker(tok, chunk_tokens=60, overlap_tokens=0, include_title=False).chunk([doc])
    assert all(b.start_char >= a.end_char for a, b in pairwise(without))


def test_prefers_sentence_and_heading_boundaries(tok):
    doc = Document("s", " ".join(SENTENCES), "s.txt")
    chunks, _ = chunker(tok, chunk_tokens=50, overlap_tokens=0, include_title=False).chunk([doc])
    assert len(chunks) > 3
    assert all(c.text.endswith(".") and re.match(r"Sentence \d+ ", c.text) for c in chunks)

    sections = "\n\n".join(f"## Section {i}\n\n" + " ".join(SENTENCES[i * 3 : i * 3 + 3]) for i in range(6))
    md = Document("m", sections, "m.md", markdown=True)
    chunks, _ = chunker(tok, chunk_tokens=110, overlap_tokens=0, include_title=False).chunk([md])
    assert len(chunks) > 1 and all(c.text.startswith("## Section") for c in chunks)


def test_heading_equal_to_title_is_not_repeated(tok):
    md = Document("m", "# Leave policy\n\nAsk your manager first.", "m.md", title="Leave policy", markdown=True)
    [c], _ = chunker(tok).chunk([md])
    assert c.text == md.text and not c.title_included


def test_ids_stable_and_content_addressed(tok):
    docs = [Document(f"d{i}", t, "x.jsonl", title="T") for i, t in enumerate(sample_texts(10))]
    first, _ = chunker(tok).chunk(docs)
    again, _ = chunker(tok).chunk(list(docs))
    assert [c.model_dump() for c in first] == [c.model_dump() for c in again]
    assert len({c.id for c in first}) == len(first) and all(re.fullmatch(r"[0-9a-f]{16}", c.id) for c in first)
    c = first[0]
    assert c.id == chunk_id(c.doc_id, c.page, 0, c.text)
    moved = [Document(d.doc_id, d.text, "elsewhere/x.jsonl", title=d.title) for d in docs]
    assert [c.id for c in chunker(tok).chunk(moved)[0]] == [c.id for c in first]  # ids do not depend on location


def test_min_tokens_drops_fragments_but_not_a_whole_short_document(tok):
    pages = [Document("p.pdf", " ".join(SENTENCES[:4]), "p.pdf", page=1), Document("p.pdf", "12", "p.pdf", page=2)]
    short = Document("tiny", "Trie Memory", "t.jsonl")
    chunks, dropped = chunker(tok, min_tokens=5).chunk([*pages, short])
    assert dropped == 1
    assert [(c.doc_id, c.page) for c in chunks] == [("p.pdf", 1), ("tiny", None)]


def test_limit_holds_for_a_byte_level_bpe_tokenizer(tmp_path: Path):
    """Token counts are not additive with BPE (a leading space merges): the composed text is what is checked."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(sample_texts(200), trainers.BpeTrainer(vocab_size=800, special_tokens=["<s>", "</s>"]))
    bpe.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", bpe.token_to_id("<s>")), ("</s>", bpe.token_to_id("</s>"))]
    )
    bpe.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 64}')
    tok = load_tokenizer(tmp_path)
    assert (tok.max_tokens, tok.n_special) == (64, 2)
    docs = [Document(f"d{i}", text, "s", title=text[:60]) for i, text in enumerate(sample_texts(40))]
    chunks, _ = chunker(tok).chunk(docs)
    fresh = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    counts = [len(e.ids) for e in fresh.encode_batch([c.text for c in chunks])]
    assert counts == [c.n_tokens for c in chunks] and max(counts) <= 64
