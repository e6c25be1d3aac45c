"""The run manifest: what each stage read, with which parameters, what it wrote, and how it went."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

StageStatus = Literal["running", "done", "failed"]


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StageRecord(BaseModel):
    """One stage's entry in ``manifest.json``."""

    name: str
    status: StageStatus = "running"
    inputs: dict[str, str] = Field(default_factory=dict, description="input path -> sha256")
    params: dict[str, Any] = Field(default_factory=dict)
    params_hash: str = ""
    outputs: dict[str, str] = Field(default_factory=dict, description="output path (relative) -> sha256")
    started_at: str = Field(default_factory=utcnow)
    finished_at: str | None = None
    seconds: float | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    machine: dict[str, Any] = Field(
        default_factory=dict, description="CPU model and capabilities the stage ran on (timings depend on them)"
    )


class Manifest(BaseModel):
    """``manifest.json``: format version and one record per stage, in the order they first ran."""

    version: int = 1
    embedtune_version: str = ""
    stages: dict[str, StageRecord] = Field(default_factory=dict)
