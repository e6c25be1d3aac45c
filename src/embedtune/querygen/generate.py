"""Where the ``generate`` stage lived before query generation was split by concern; its names now live in
:mod:`~embedtune.querygen.config`, :mod:`~embedtune.querygen.jobs`, :mod:`~embedtune.querygen.estimate`,
:mod:`~embedtune.querygen.stage` and :mod:`~embedtune.querygen.preview`.

Kept so that imports written against it (``pipeline/config.py``, ``benchmarks/``, older scripts) still resolve;
new code imports from :mod:`embedtune.querygen`.
"""

from embedtune.querygen.config import FORMAT, GenerateConfig, LocalOptions, OpenAIOptions, make_backend
from embedtune.querygen.estimate import LOCAL_QUERIES_PER_SECOND, estimate, format_estimate, local_rate
from embedtune.querygen.jobs import Job, llm_sample, plan_jobs, prompt_set, run_jobs
from embedtune.querygen.preview import PreviewRow, preview_queries
from embedtune.querygen.stage import STAGE, estimate_generation, generate_queries, load_queries

__all__ = ["FORMAT", "LOCAL_QUERIES_PER_SECOND", "STAGE", "GenerateConfig", "Job", "LocalOptions", "OpenAIOptions",
           "PreviewRow", "estimate", "estimate_generation", "format_estimate", "generate_queries", "llm_sample",
           "load_queries", "local_rate", "make_backend", "plan_jobs", "preview_queries", "prompt_set", "run_jobs"]
