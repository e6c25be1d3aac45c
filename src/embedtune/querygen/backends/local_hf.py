"""Query writing with a local generative model: a transformers causal LM (or seq2seq) folder, or a GGUF file.

Optimises for throughput on CPU: prompts sorted by length and batched with left padding (so every row's answer
starts at the same position), bf16 weights where the CPU runs bf16 natively and fp32 elsewhere (``dtype="auto"``,
see :mod:`embedtune.hardware`: emulated bf16 is up to ~44x slower), sampling so repeated prompts give distinct
questions. The offline
default is SmolLM2-135M-Instruct from the registry, about 1-2 questions/s on two cores: good enough to prove the
pipeline and to cover a sample of chunks; a real LLM behind the OpenAI-compatible backend writes better ones.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from typing import Any

from embedtune.errors import EmbedtuneError
from embedtune.models.registry import DEFAULT_GENERATOR, registry_spec, resolve_model
from embedtune.progress import console
from embedtune.querygen.backends.base import ChatRequest, ChatResult, OnResult, QueryBackend
from embedtune.querygen.parsing import parse_single

# Never reach for a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide transformers' load-time warnings and bars (GGUF de-quantisation): our own status line says it."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        # The GGUF loader's tqdm bar ignores transformers' settings; it writes to the stderr of the moment.
        with redirect_stderr(io.StringIO()):
            yield
    finally:
        hf_logging.set_verbosity(level)


def _locate(path: Path) -> tuple[Path, str | None]:
    """(folder, GGUF file name or None) for a model folder or a ``.gguf`` file."""
    if path.is_file():
        if path.suffix != ".gguf":
            raise EmbedtuneError(f"{path}: expected a model folder or a .gguf file")
        return path.parent, path.name
    if not (path / "config.json").exists() and len(ggufs := sorted(path.glob("*.gguf"))) == 1:
        return path, ggufs[0].name
    return path, None


class LocalHFBackend(QueryBackend):
    """Batched generation with transformers on CPU; one question per call (prompt family ``single``).

    ``model`` is a registry name (default ``SmolLM2-135M-Instruct``), a model folder, or a ``.gguf`` file.
    ``dtype`` is a torch dtype name or ``auto`` (bf16 with AMX / AVX512-BF16, else fp32), resolved at load time.
    Loads lazily, on the first call to :meth:`generate`, so planning and cost estimates stay instant.
    """

    name = "local"
    family = "single"

    def __init__(
        self,
        model: str | Path = DEFAULT_GENERATOR,
        *,
        batch_size: int = 16,
        dtype: str = "auto",
        max_new_tokens: int = 40,
        temperature: float = 0.7,
        top_p: float = 0.95,
        seed: int = 0,
    ) -> None:
        spec = registry_spec(str(model))
        if spec is not None and spec.kind != "generator":
            raise EmbedtuneError(f"model {spec.name!r} is an embedding model, not a text generator")
        self.path = resolve_model(model)
        self.model = spec.name if spec else str(model)
        self.cache_id = f"local:{spec.name}" if spec else f"local:{self._fingerprint()}"
        self.batch_size = max(1, batch_size)
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.seed = seed
        self._lm: Any = None
        self._tok: Any = None
        self._seq2seq = False

    def _fingerprint(self) -> str:
        # Name, size and mtime of the weight files: cheap, and changes whenever the weights are replaced.
        files = [self.path] if self.path.is_file() else sorted(p for p in self.path.iterdir() if p.is_file())
        return f"{self.path.resolve()}:" + ",".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files)

    def load(self) -> None:
        """Load tokenizer and weights (about 15-20 s for the SmolLM2 GGUF, which is de-quantised to torch)."""
        if self._lm is not None:
            return
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

        from embedtune.hardware import resolve_dtype

        folder, gguf = _locate(self.path)
        dtype = resolve_dtype(self.dtype)  # warns once for an explicit bf16 this CPU can only emulate
        console.print(f"loading {self.model} ({dtype}) ...", highlight=False)
        kwargs: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
        try:
            with _quiet_loading():
                tok = AutoTokenizer.from_pretrained(str(folder), **kwargs)
                config = AutoConfig.from_pretrained(str(folder), **kwargs)
                self._seq2seq = bool(getattr(config, "is_encoder_decoder", False))
                auto = AutoModelForSeq2SeqLM if self._seq2seq else AutoModelForCausalLM
                lm = auto.from_pretrained(str(folder), dtype=getattr(torch, dtype), **kwargs).eval()
        except ImportError as e:
            raise EmbedtuneError(
                f"{self.path}: loading this generator needs a missing package ({e}); "
                "for GGUF files: pip install gguf==0.19.0 accelerate==1.15.0"
            ) from None
        except (OSError, ValueError, KeyError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise EmbedtuneError(f"{self.path}: cannot load as a text generator ({first})") from None
        # Left padding: a decoder-only model continues from the last position, which must be a real token.
        tok.padding_side = "right" if self._seq2seq else "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        self._tok, self._lm = tok, lm

    def _prompt(self, messages: Sequence[dict[str, str]]) -> tuple[str, str]:
        """(model input text, pre-fill) for chat messages."""
        messages = list(messages)
        prefill = messages.pop()["content"] if messages and messages[-1]["role"] == "assistant" else ""
        if self._seq2seq:  # encoder input only; seq2seq models get no pre-fill
            return "\n\n".join(m["content"] for m in messages), ""
        if self._tok.chat_template:
            text = self._tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            return text + prefill, prefill
        return "\n\n".join(m["content"] for m in messages) + "\n\n" + prefill, prefill

    def generate(self, requests: Sequence[ChatRequest], on_result: OnResult) -> None:
        if not requests:
            return
        import torch

        self.load()
        tok, lm = self._tok, self._lm
        prompts = [self._prompt(r.messages) for r in requests]
        # Similar lengths in one batch waste less compute on padding.
        order = sorted(range(len(requests)), key=lambda i: len(prompts[i][0]))
        for b, start in enumerate(range(0, len(order), self.batch_size)):
            idx = order[start : start + self.batch_size]
            # A chat template already holds the special tokens; a plain prompt needs the tokenizer's own.
            enc = tok(
                [prompts[i][0] for i in idx], return_tensors="pt", padding=True,
                add_special_tokens=self._seq2seq or not tok.chat_template,
            )
            torch.manual_seed(self.seed + b)
            with torch.inference_mode():
                out = lm.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=self.temperature > 0,
                    temperature=self.temperature if self.temperature > 0 else None,
                    top_p=self.top_p if self.temperature > 0 else None,
                    pad_token_id=tok.pad_token_id,
                )
            new = out if self._seq2seq else out[:, enc["input_ids"].shape[1] :]
            for row, i in enumerate(idx):
                tokens = new[row]
                produced = int((tokens != tok.pad_token_id).sum())
                query = parse_single(prompts[i][1] + tok.decode(tokens, skip_special_tokens=True))
                on_result(
                    requests[i],
                    ChatResult(
                        queries=[query] if query else [],
                        prompt_tokens=int(enc["attention_mask"][row].sum()),
                        completion_tokens=produced,
                    ),
                )

    def close(self) -> None:
        self._lm = self._tok = None
