"""The Runner a stage of ``embedtune run`` encodes with when its caller gives none."""

from __future__ import annotations

from embedtune.pipeline.config import RunConfig
from embedtune.retrieval.runner import Runner


def run_runner(config: RunConfig, runner: Runner | None = None) -> Runner:
    """``runner``, else the run config's backend (``auto`` resolved for this CPU, recorded by its real name) in
    this process. ``run_pipeline`` builds one for the whole run and passes it to every stage."""
    return runner if runner is not None else Runner.configure(config.inference)
