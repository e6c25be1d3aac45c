"""Run directories: a manifest of stages, atomic writes, skip-when-current and resume."""

from embedtune.workspace.atomic import (
    atomic_write,
    read_jsonl,
    read_jsonl_lines,
    write_json,
    write_jsonl,
)
from embedtune.workspace.lock import WorkspaceBusy, workspace_lock
from embedtune.workspace.manifest import Manifest, StageRecord
from embedtune.workspace.stage_result import StageResult
from embedtune.workspace.workspace import StageRun, Workspace, default_workspace

__all__ = [
    "Manifest",
    "StageRecord",
    "StageResult",
    "StageRun",
    "Workspace",
    "WorkspaceBusy",
    "atomic_write",
    "default_workspace",
    "read_jsonl",
    "read_jsonl_lines",
    "workspace_lock",
    "write_json",
    "write_jsonl",
]
