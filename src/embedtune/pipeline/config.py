"""One run, one config file: every stage's settings in a single YAML document (``embedtune init`` writes it)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from embedtune.adapter.config import AdapterConfig
from embedtune.corpus.config import IngestConfig
from embedtune.dataset.split import SplitConfig
from embedtune.encoding.base import Inference
from embedtune.gate import GateConfig as RunGateConfig
from embedtune.mining.config import MiningConfig
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.querygen.config import GenerateConfig
from embedtune.teach.config import TeachConfig
from embedtune.training.config import TrainConfig
from embedtune.yaml_file import read_yaml, validate_settings


class EvalSetConfig(BaseModel):
    """Real eval queries, when the user has them; otherwise queries of held-out documents are used."""

    dataset: Path | None = Field(default=None, description="BEIR folder: its queries.jsonl + qrels/<split>.tsv.")
    split: str = "test"


class ReportConfig(BaseModel):
    dims: list[int] | None = Field(default=None, description="Dims to evaluate; None = the Matryoshka dims trained.")
    bm25: bool = True
    hybrid: bool = True
    rerank: str | None = Field(
        default="auto",
        description="Cross-encoder for the baseline's reranked system (registry name, folder or cached hub id); auto = "
        "the packaged ms-marco-MiniLM-L-12-v2 when installed; null = none.",
    )
    rerank_top: int = Field(default=10, ge=1, description="Dense candidates the reranker re-scores per query.")

    def resolved_rerank(self) -> str | None:
        """``rerank`` with ``auto`` resolved: the packaged cross-encoder when its package is installed, else none."""
        if self.rerank != "auto":
            return self.rerank
        from embedtune.models.registry import TEACHER_CROSS_ENCODER, registry_spec

        spec = registry_spec(TEACHER_CROSS_ENCODER)
        return TEACHER_CROSS_ENCODER if spec is not None and spec.locate() is not None else None


def _generate_default() -> GenerateConfig:
    # The tiny offline LLM writes ~2 queries/s on 2 cores: a 64-chunk sample keeps it to about a minute;
    # the offline signals cover every chunk.
    return GenerateConfig(max_chunks=64)


def _mining_default() -> MiningConfig:
    return MiningConfig(num_negatives=3)


def _train_default() -> TrainConfig:
    # Sized for 2 CPU cores (~5 min): a seeded sample of rows, one hard negative, 128-token training inputs
    # (the saved model keeps its 256-token limit). On a GPU, raise max_rows and drop max_seq_length.
    # distill: the teach stage's labels (listwise KL added to MNRL); off when teach.teacher is none.
    return TrainConfig(max_rows=1024, hard_negatives=1, max_seq_length=128, distill="kl")


class RunConfig(BaseModel):
    """Settings of ``embedtune run``; each section is the config of one stage. Defaults fit 2 CPU cores."""

    corpus: list[Path] = Field(default_factory=list, description="Documents (files or folders); empty = bundled sample.")
    base_model: str = DEFAULT_MODEL
    eval: EvalSetConfig = Field(default_factory=EvalSetConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    generate: GenerateConfig = Field(default_factory=_generate_default)
    split: SplitConfig = Field(default_factory=SplitConfig)
    mine: bool = Field(default=True, description="Mine hard negatives (else in-batch negatives only).")
    mining: MiningConfig = Field(default_factory=_mining_default)
    teach: TeachConfig = Field(
        default_factory=lambda: TeachConfig(teacher="none"),
        description="Offline teachers label the mined rows and training distils them (teacher: auto). Off by "
        "default: on full SciFact it cost ~6 min and lifted no dim beyond noise (docs/benchmarks.md, issue 18).",
    )
    train: TrainConfig = Field(default_factory=_train_default)
    rounds: int = Field(default=1, ge=1, le=3, description="Train, then mine with the tuned model and train again.")
    gate: RunGateConfig = Field(
        default_factory=lambda: RunGateConfig(alphas=[0.5, 1.0]),
        description="After training: merge base and tuned, keep base when nothing beats it on dev (embedtune.gate). "
        "Two alphas by default (each costs a dev + out-of-domain encoding on 2 cores).",
    )
    report: ReportConfig = Field(default_factory=ReportConfig)
    adapter: AdapterConfig = Field(
        default_factory=AdapterConfig,
        description="Query-only adapter (`embedtune adapter train --config`): trained on request, not by `run` "
        "(docs/adapter.md).",
    )
    inference: Inference = Field(
        default="auto",
        description=(
            "How every stage but training encodes: auto (the fastest exact-enough backend on this CPU: openvino-bf16 "
            "with native bf16, openvino elsewhere; see `embedtune doctor`), torch, torch-bf16, onnx, onnx-int8, "
            "openvino, openvino-bf16."
        ),
    )

    def teaching(self) -> bool:
        """Whether the teach stage runs (it needs mined rows) and training distils its labels."""
        return self.mine and self.teach.teacher != "none"

    def train_config(self) -> TrainConfig:
        """``train`` as the run uses it: no distillation without a teach stage."""
        return self.train if self.teaching() else self.train.model_copy(update={"distill": "none"})


def load_run_config(path: str | Path) -> RunConfig:
    """Parse a YAML run config; a bad file is one line naming the file and the first problem."""
    return validate_settings(RunConfig, read_yaml(path), path)


def _commented(model: BaseModel, indent: int = 0) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.description:
            lines.append(f"{pad}# {field.description}")
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:")
            lines.extend(_commented(value, indent + 2))
        else:
            dumped = yaml.safe_dump({name: value if not isinstance(value, Path) else str(value)},
                                    default_flow_style=True, sort_keys=False).strip()
            lines.append(f"{pad}{dumped[1:-1] if dumped.startswith('{') else dumped}")
    return lines


def default_config_yaml(config: RunConfig | None = None) -> str:
    """The default run config as YAML, every setting present and commented."""
    cfg = config or RunConfig()
    header = ["# embedtune run config: `embedtune run --config THIS_FILE`", ""]
    return "\n".join(header + _commented(cfg)) + "\n"
