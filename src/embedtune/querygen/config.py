"""What a ``generate`` run is asked to do: backend, styles, budget, filters; and the backend that config builds.

Everything in :class:`GenerateConfig` that changes which queries are written is a stage parameter; options that
only change speed or safety (``OPERATIONAL_OPTIONS``) and the paths of input files (hashed as inputs instead) are not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from embedtune.querygen.backends import SIGNALS, QueryBackend
from embedtune.querygen.filters import FilterConfig
from embedtune.querygen.prompts import STYLES

FORMAT = 1  # bump when the query format or an algorithm changes, so old results are not reused


class OpenAIOptions(BaseModel):
    """Settings of the OpenAI-compatible backend; only ``base_url`` changes what is generated."""

    base_url: str = ""
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Environment variable holding the API key.")
    concurrency: int = Field(default=8, ge=1)
    requests_per_minute: float | None = Field(default=None, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=60.0, ge=0)
    timeout: float = Field(default=60.0, gt=0)
    price_in: float = Field(default=0.0, ge=0, description="$ per 1M prompt tokens, for the cost estimate.")
    price_out: float = Field(default=0.0, ge=0, description="$ per 1M completion tokens.")


class LocalOptions(BaseModel):
    """Settings of the local transformers backend."""

    batch_size: int = Field(default=16, ge=1)
    dtype: str = Field(
        default="auto", description="Weights dtype: auto (bfloat16 where the CPU runs it natively, else float32), "
        "float32 or bfloat16 (emulated and ~44x slower on CPUs without AMX / AVX512-BF16)."
    )
    max_new_tokens: int = Field(default=40, ge=1)
    top_p: float = Field(default=0.95, gt=0, le=1)


# Options that change how fast or how safely a run goes, never what it produces: not part of the stage params.
OPERATIONAL_OPTIONS = {
    "openai": {"api_key_env", "concurrency", "requests_per_minute", "max_attempts", "backoff_base", "backoff_max",
               "timeout", "price_in", "price_out"},
    "local": {"batch_size"},
}


INPUT_FILES = ("examples", "eval_queries", "labelled")  # config fields naming files: hashed as stage inputs


class GenerateConfig(BaseModel):
    """Everything that decides which queries a run writes."""

    backend: Literal["local", "openai", "none"] = Field(
        default="local", description="LLM backend; 'none' uses offline signals only."
    )
    model: str | None = Field(default=None, description="Generator: local default SmolLM2-135M-Instruct; required for openai.")
    styles: list[str] = Field(default_factory=lambda: ["question"], description=f"Prompt styles, cycled over chunks: {', '.join(STYLES)}.")
    per_chunk: int = Field(default=2, ge=1, description="LLM queries per chunk.")
    max_chunks: int | None = Field(default=1000, ge=1, description="LLM budget: a random sample of this many chunks; None: all.")
    signals: list[str] = Field(default_factory=lambda: list(SIGNALS), description="Offline signals, run on every chunk.")
    domain: str = Field(default="", description="A few words on what the documents are about, for the prompt.")
    examples: Path | None = Field(default=None, description="Real user queries for few-shot prompting.")
    prompt_dir: Path | None = Field(default=None, description="Folder of templates overriding the packaged ones.")
    max_passage_chars: int | None = Field(default=None, ge=100, description="Passage cut in prompts (default per backend).")
    temperature: float = Field(default=0.7, ge=0)
    seed: int = 0
    eval_queries: Path | None = Field(default=None, description="Eval queries (BEIR queries.jsonl) no query may copy.")
    labelled: Path | None = Field(
        default=None, description="Real training queries: a BEIR folder (qrels/<labelled_split>.tsv) or a JSONL of {query, doc_id} "
        "(e.g. a search log labelled by `embedtune label`)."
    )
    labelled_split: str = "train"
    filters: FilterConfig = Field(default_factory=FilterConfig)
    openai: OpenAIOptions = Field(default_factory=OpenAIOptions)
    local: LocalOptions = Field(default_factory=LocalOptions)

    @field_validator("styles")
    @classmethod
    def _known_styles(cls, styles: list[str]) -> list[str]:
        if unknown := [s for s in styles if s not in STYLES]:
            raise ValueError(f"unknown style {unknown[0]!r}; styles: {', '.join(STYLES)}")
        if not styles:
            raise ValueError("give at least one style")
        return styles

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, signals: list[str]) -> list[str]:
        if unknown := [s for s in signals if s not in SIGNALS]:
            raise ValueError(f"unknown signal {unknown[0]!r}; signals: {', '.join(SIGNALS)}")
        return signals

    def stage_params(self) -> dict[str, Any]:
        # The files' contents are stage inputs (hashed); their paths would make a moved workspace stale.
        exclude = OPERATIONAL_OPTIONS | dict.fromkeys(INPUT_FILES, True)
        return self.model_dump(mode="json", exclude=exclude) | {"format": FORMAT}


def make_backend(config: GenerateConfig) -> QueryBackend | None:
    """The LLM backend a config asks for (nothing is loaded or contacted yet)."""
    if config.backend == "openai":
        from embedtune.querygen.backends import OpenAICompatBackend

        o = config.openai
        return OpenAICompatBackend(
            o.base_url, config.model or "", api_key_env=o.api_key_env, concurrency=o.concurrency,
            requests_per_minute=o.requests_per_minute, max_attempts=o.max_attempts, backoff_base=o.backoff_base,
            backoff_max=o.backoff_max, timeout=o.timeout, temperature=config.temperature,
        )
    if config.backend == "local":
        from embedtune.models.registry import DEFAULT_GENERATOR
        from embedtune.querygen.backends import LocalHFBackend

        lo = config.local
        return LocalHFBackend(
            config.model or DEFAULT_GENERATOR, batch_size=lo.batch_size, dtype=lo.dtype,
            max_new_tokens=lo.max_new_tokens, temperature=config.temperature, top_p=lo.top_p, seed=config.seed,
        )
    return None
