"""Request and response bodies of ``/v1/embeddings`` (OpenAI's shapes), ``/search`` and ``/health``.

Pydantic does the parsing and the static checks (types, empty inputs, ranges); limits that depend on the
server's settings (batch size, text length, largest ``k``) are checked by the routes and answered with 413/422.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _non_empty(text: str, what: str) -> str:
    if not text.strip():
        raise ValueError(f"{what} is empty")
    return text


class EmbeddingRequest(BaseModel):
    """OpenAI's embeddings request. Unknown fields are ignored, as clients send extras (``user``, ...).

    ``model`` selects whose vectors you get: ``"live"`` (the version being served) or the name of an index
    version of the store, whose own model then encodes; any other name is a 404, since vectors of two models
    share no space. Without ``dimensions`` the vectors have the model's full width (OpenAI's default), which
    can be wider than the index's stored ``dim`` (``/health``). ``input_type`` is an extension (OpenAI has
    none): ``"query"`` applies the model's query prompt, for models trained with one, and, when the version carries
    a query adapter (``embedtune index attach-adapter``), the adapter; ``"document"`` (the default) never does, so
    documents embedded for the index stay comparable with its stored vectors.
    """

    model_config = ConfigDict(extra="ignore")

    input: str | list[str]
    model: str = Field("live", min_length=1, max_length=200)
    dimensions: int | None = Field(None, ge=1, description="Matryoshka truncation, then renormalised.")
    encoding_format: Literal["float", "base64"] = "float"
    input_type: Literal["query", "document"] = "document"

    @field_validator("input", mode="before")
    @classmethod
    def _no_tokens(cls, value: object) -> object:
        if isinstance(value, list) and any(isinstance(v, int | list) for v in value):
            raise ValueError("token-id inputs are not supported; send text")
        return value

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str):
            return _non_empty(value, "the input text")
        if not value:
            raise ValueError("the input list is empty")
        for i, text in enumerate(value):
            _non_empty(text, f"input text {i}")
        return value

    @property
    def texts(self) -> list[str]:
        """The inputs as a list, in request order."""
        return [self.input] if isinstance(self.input, str) else list(self.input)


class EmbeddingData(BaseModel):
    """One vector: a list of floats, or base64 of little-endian float32 bytes."""

    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class Usage(BaseModel):
    """Tokens the model read (its own tokenizer, after truncation to its max_seq_length)."""

    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    """OpenAI's embeddings response; ``model`` is the index version whose model produced the vectors."""

    object: Literal["list"] = "list"
    data: list[EmbeddingData]
    model: str
    usage: Usage


class SearchRequest(BaseModel):
    """A query against the live version (or a named one)."""

    model_config = ConfigDict(extra="forbid")

    query: str
    k: int = Field(10, ge=1)
    mode: Literal["dense", "hybrid"] = "dense"
    index: str | None = Field(
        None, min_length=1, max_length=200, description="An index version name; default: the version being served."
    )
    user: str | None = Field(None, min_length=1, max_length=200, description="Sticky A/B assignment key.")
    session: str | None = Field(None, min_length=1, max_length=200, description="Used when no user is given.")

    @field_validator("query")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        return _non_empty(value, "the query")


class SearchHit(BaseModel):
    """One result, best first: cosine similarity for dense search, the fused RRF score for hybrid."""

    id: str
    doc_id: str
    score: float
    text: str
    duplicate_doc_ids: list[str] = Field(
        default_factory=list, description="Documents holding an identical chunk (deduplicated at ingest)."
    )
    position: int = Field(0, description="1-based position as shown (after interleaving and exploration).")
    arm: str | None = Field(None, description="Interleaving: the arm (version) that contributed this result.")


class SearchResponse(BaseModel):
    """Hits and the version that produced them; send ``search_id`` back with ``/feedback``."""

    object: Literal["search.results"] = "search.results"
    index: str
    mode: Literal["dense", "hybrid"]
    hits: list[SearchHit]
    search_id: str = ""
    arm: str | None = Field(None, description="A/B split: the arm (version) this user is on.")
    swap: tuple[int, int] | None = Field(None, description="Exploration: the two positions swapped, if any.")
    experiment: dict | None = Field(None, description="The A/B test: mode and arms.")


class HealthResponse(BaseModel):
    """What is being served right now."""

    status: Literal["ok"] = "ok"
    index: str = Field(description="The version being served.")
    follows_live: bool = Field(description="Whether promotions and rollbacks are picked up without a restart.")
    backend: str
    model_hash: str = Field(description="Content hash of the model the served version's vectors were made with.")
    dim: int = Field(description="The index's stored dimension (a Matryoshka prefix when below model_dim).")
    model_dim: int
    normalized: bool
    count: int
    live_error: str | None = Field(None, description="Why the version live points to is not served (yet).")
