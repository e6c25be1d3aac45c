"""Ingest settings. Every field is a stage parameter: changing one makes the next ingest run again."""

from __future__ import annotations

import codecs

from pydantic import BaseModel, ConfigDict, Field, field_validator

from embedtune.models.registry import DEFAULT_MODEL


class IngestConfig(BaseModel):
    """How to read and chunk a corpus. Token sizes left as None are derived from the model's limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(DEFAULT_MODEL, description="whose tokenizer and sequence limit the chunks must fit")
    chunk_tokens: int | None = Field(
        None, ge=8, description="body tokens per chunk; default: the model limit less specials and 1/8 for the title"
    )
    overlap_tokens: int | None = Field(None, ge=0, description="tokens shared by neighbouring chunks; default 15%")
    include_title: bool = Field(True, description="prepend the document title to every chunk it embeds")
    min_tokens: int = Field(5, ge=0, description="drop fragments shorter than this (a document's only chunk stays)")
    near_duplicate_threshold: float = Field(0.9, gt=0, le=1, description="word-shingle Jaccard to drop a chunk")
    text_field: str = "text"
    title_field: str = "title"
    id_field: str = "_id"
    encoding: str | None = Field(
        None, description="encoding of files that are not UTF-8 (default: detected, cp1252/latin-1 when ambiguous)"
    )
    max_document_chars: int = Field(
        10_000_000, ge=1000, description="longer documents are cut here, with a warning (a 10 MB line is no document)"
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
