"""Synthetic queries for chunks: LLM-written questions and offline signals, cached, filtered and reported.

One concept per module: :mod:`~embedtune.querygen.config` (what a run is asked to do),
:mod:`~embedtune.querygen.jobs` (the LLM calls), :mod:`~embedtune.querygen.estimate` (their cost),
:mod:`~embedtune.querygen.filters` and :mod:`~embedtune.querygen.report`, :mod:`~embedtune.querygen.stage` (the
recorded ``generate`` stage) and :mod:`~embedtune.querygen.preview` (a few chunks, before paying).

Example::

    from embedtune.querygen import GenerateConfig, generate_queries, load_queries

    report = generate_queries("embedtune-runs/default", GenerateConfig(backend="local", max_chunks=200))
    queries = load_queries("embedtune-runs/default")  # Query rows: text, chunk_id, style, backend, ...
"""

from embedtune.querygen.backends import (
    ChatRequest,
    ChatResult,
    LocalHFBackend,
    OpenAICompatBackend,
    QueryBackend,
    offline_queries,
)
from embedtune.querygen.cache import GenerationCache
from embedtune.querygen.filters import FilterConfig, FilterResult, apply_filters, round_trip_ranks
from embedtune.querygen.config import GenerateConfig, LocalOptions, OpenAIOptions, make_backend
from embedtune.querygen.parsing import parse_query_list, parse_single
from embedtune.querygen.preview import PreviewRow, preview_queries
from embedtune.querygen.prompts import STYLES, PromptSet, PromptTemplate
from embedtune.querygen.query import Query
from embedtune.querygen.report import Estimate, QuerygenReport, print_report
from embedtune.querygen.stage import estimate_generation, generate_queries, load_queries

__all__ = [
    "STYLES",
    "ChatRequest",
    "ChatResult",
    "Estimate",
    "FilterConfig",
    "FilterResult",
    "GenerateConfig",
    "GenerationCache",
    "LocalHFBackend",
    "LocalOptions",
    "OpenAICompatBackend",
    "OpenAIOptions",
    "PreviewRow",
    "PromptSet",
    "PromptTemplate",
    "Query",
    "QueryBackend",
    "QuerygenReport",
    "apply_filters",
    "estimate_generation",
    "generate_queries",
    "load_queries",
    "make_backend",
    "offline_queries",
    "parse_query_list",
    "parse_single",
    "preview_queries",
    "print_report",
    "round_trip_ranks",
]
