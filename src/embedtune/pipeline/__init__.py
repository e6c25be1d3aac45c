"""The one-command pipeline: every stage in order, resumable, driven by one run config."""

from embedtune.pipeline.config import RunConfig, default_config_yaml, load_run_config
from embedtune.pipeline.run import PipelineResult, run_pipeline

__all__ = ["PipelineResult", "RunConfig", "default_config_yaml", "load_run_config", "run_pipeline"]
