"""Per-request limits that depend on the server's settings: batch size, text length, result count.

The byte size of a whole body is capped earlier (:mod:`embedtune.serving.body_limit`, 413 before the body
is parsed); these checks run on the parsed request and answer 413 (too much) or 422 (an impossible value).
"""

from __future__ import annotations

from collections.abc import Sequence

from embedtune.serving.config import ServeConfig
from embedtune.serving.errors import ApiError


def check_texts(texts: Sequence[str], config: ServeConfig, param: str = "input") -> None:
    """At most ``max_batch`` texts, each of at most ``max_chars`` characters."""
    if len(texts) > config.max_batch:
        raise ApiError(
            413, f"{len(texts)} inputs in one request; the limit is {config.max_batch} (max_batch)",
            param=param, code="batch_too_large",
        )
    for i, text in enumerate(texts):
        if len(text) > config.max_chars:
            where = f"{param} text {i}" if len(texts) > 1 else param
            raise ApiError(
                413, f"{where} has {len(text):,} characters; the limit is {config.max_chars:,} (max_chars)",
                param=param, code="input_too_long",
            )


def check_k(k: int, config: ServeConfig, param: str = "k") -> None:
    """At most ``max_k`` results."""
    if k > config.max_k:
        raise ApiError(422, f"{param} = {k} is above the limit of {config.max_k}", param=param)


def check_dimensions(dimensions: int | None, model_dim: int, version: str) -> None:
    """Matryoshka truncation can only shorten a vector."""
    if dimensions is not None and dimensions > model_dim:
        raise ApiError(
            422, f"dimensions = {dimensions} is larger than the model's {model_dim} (index version {version!r})",
            param="dimensions",
        )
