"""Synthetic queries for chunks: LLM-written questions and offline signals, cached, filtered and reported.

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
from embedtune.querygen.generate import (
    GenerateConfig,
    LocalOptions,
    OpenAIOptions,
    PreviewRow,
    estimate_generation,
    generate_queries,
    load_queries,
    make_backend,
    preview_queries,
)
from embedtune.querygen.parsing import parse_query_list, parse_single
from embedtune.querygen.prompts import STYLES, PromptSet, PromptTemplate
from embedtune.querygen.query import Query
from embedtune.querygen.report import Estimate, QuerygenReport, print_report

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
