"""embedtune: adapt a text embedding model to your own documents, prove it retrieves better, migrate safely.

The Python API runs the same stages as the CLI, in the same workspace folder, and skips a stage whose
inputs and settings have not changed. Names are imported on first use, so ``import embedtune`` stays cheap
(torch loads only when a stage that needs it is called). Full guide with an example per function:
``docs/api.md``.

Example::

    import embedtune

    # The whole pipeline, as `embedtune run`: ingest -> generate -> split -> baseline -> mine -> teach
    # -> train -> evaluate, into one workspace folder.
    result = embedtune.run(embedtune.RunConfig(), "embedtune-runs/default")
    print(result.model_dir, result.report_html)

    # Or stage by stage, on your own documents:
    ws = "embedtune-runs/mine"
    embedtune.ingest("docs/", ws)
    embedtune.generate(ws)
    embedtune.split(ws)
    embedtune.mine(ws)
    embedtune.train(ws, base_model="all-MiniLM-L6-v2")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from embedtune.errors import EmbedtuneError, InputError

__version__ = "0.1.0"

# Public name -> (module, attribute). Stage functions get short verbs; a verb that is also a subpackage name
# (``teach``, ``gate``) would be shadowed by the subpackage once imported, so those keep a longer name.
_LAZY: dict[str, tuple[str, str]] = {
    # the whole pipeline
    "run": ("embedtune.pipeline.run", "run_pipeline"),
    "RunConfig": ("embedtune.pipeline.config", "RunConfig"),
    "PipelineResult": ("embedtune.pipeline.run", "PipelineResult"),
    "StageResult": ("embedtune.workspace.stage_result", "StageResult"),
    "load_run_config": ("embedtune.pipeline.config", "load_run_config"),
    # stages, in pipeline order
    "ingest": ("embedtune.corpus.stage", "ingest"),
    "IngestConfig": ("embedtune.corpus.config", "IngestConfig"),
    "IngestReport": ("embedtune.corpus.report", "IngestReport"),
    "generate": ("embedtune.querygen.stage", "generate_queries"),
    "GenerateConfig": ("embedtune.querygen.config", "GenerateConfig"),
    "split": ("embedtune.dataset.stage", "build_split"),
    "SplitConfig": ("embedtune.dataset.split", "SplitConfig"),
    "baseline": ("embedtune.evaluation.baseline", "run_baseline"),
    "mine": ("embedtune.mining.stage", "mine"),
    "MiningConfig": ("embedtune.mining.config", "MiningConfig"),
    "run_teachers": ("embedtune.teach.stage", "teach"),
    "TeachConfig": ("embedtune.teach.config", "TeachConfig"),
    "label_queries": ("embedtune.teach.label_queries", "label_queries"),
    "train": ("embedtune.training.stage", "train_stage"),
    "TrainConfig": ("embedtune.training.config", "TrainConfig"),
    "evaluate": ("embedtune.evaluation.model_comparison", "compare_base_and_tuned"),
    "run_gate": ("embedtune.gate.run", "run_gate"),
    "GateConfig": ("embedtune.gate.config", "GateConfig"),
    # workspace files
    "Chunk": ("embedtune.corpus.chunk", "Chunk"),
    "load_chunks": ("embedtune.corpus.chunk", "load_chunks"),
    "Query": ("embedtune.querygen.query", "Query"),
    "TrainQuery": ("embedtune.dataset.split", "TrainQuery"),
    "load_pairs": ("embedtune.dataset.stage", "load_pairs"),
    "load_beir": ("embedtune.evaluation.beir", "load_beir"),
    # models
    "load_embedder": ("embedtune.models.loading", "load_embedder"),
    "Runner": ("embedtune.retrieval.runner", "Runner"),
    "list_models": ("embedtune.models.registry", "list_models"),
    # vector index migration
    "open_store": ("embedtune.index.store", "open_store"),
    "build_index": ("embedtune.index.build", "build_index"),
    "shadow_compare": ("embedtune.index.shadow", "shadow_compare"),
    # keeping the model fresh
    "retrain": ("embedtune.feedback.retrain", "retrain"),
    "RetrainConfig": ("embedtune.feedback.retrain_config", "RetrainConfig"),
}

__all__ = ["EmbedtuneError", "InputError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it, so later lookups are plain attributes."""
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'embedtune' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # what type checkers and IDEs see; nothing is imported at run time
    from embedtune.corpus.chunk import Chunk, load_chunks
    from embedtune.corpus.config import IngestConfig
    from embedtune.corpus.report import IngestReport
    from embedtune.corpus.stage import ingest
    from embedtune.dataset.split import SplitConfig, TrainQuery
    from embedtune.dataset.stage import build_split as split
    from embedtune.dataset.stage import load_pairs
    from embedtune.evaluation.baseline import run_baseline as baseline
    from embedtune.evaluation.beir import load_beir
    from embedtune.evaluation.model_comparison import compare_base_and_tuned as evaluate
    from embedtune.feedback.retrain import retrain
    from embedtune.feedback.retrain_config import RetrainConfig
    from embedtune.gate.config import GateConfig
    from embedtune.gate.run import run_gate
    from embedtune.index.build import build_index
    from embedtune.index.shadow import shadow_compare
    from embedtune.index.store import open_store
    from embedtune.mining.config import MiningConfig
    from embedtune.mining.stage import mine
    from embedtune.models.loading import load_embedder
    from embedtune.models.registry import list_models
    from embedtune.pipeline.config import RunConfig, load_run_config
    from embedtune.pipeline.run import PipelineResult
    from embedtune.pipeline.run import run_pipeline as run
    from embedtune.querygen.config import GenerateConfig
    from embedtune.querygen.stage import generate_queries as generate
    from embedtune.querygen.query import Query
    from embedtune.retrieval.runner import Runner
    from embedtune.workspace.stage_result import StageResult
    from embedtune.teach.config import TeachConfig
    from embedtune.teach.label_queries import label_queries
    from embedtune.teach.stage import teach as run_teachers
    from embedtune.training.config import TrainConfig
    from embedtune.training.stage import train_stage as train
