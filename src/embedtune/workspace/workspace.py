"""A run directory with a manifest; stages skip when current and resume from their scratch folder.

Symbolic links inside a workspace are never followed for writing: a link planted at ``.partial/<stage>`` or
in an output's folder would otherwise send our files (and later deletions) somewhere else.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedtune import __version__
from embedtune.errors import EmbedtuneError
from embedtune.hashing import sha256_file, sha256_json
from embedtune.workspace.atomic import write_json
from embedtune.workspace.lock import workspace_lock
from embedtune.workspace.manifest import Manifest, StageRecord, utcnow

MANIFEST = "manifest.json"


def default_workspace(name: str = "default") -> Path:
    return Path("embedtune-runs") / name


@dataclass
class StageRun:
    """Handle given to a running stage: where to put partial work and what to record at the end."""

    workspace: Workspace
    record: StageRecord
    outputs: list[str] = field(default_factory=list)

    @property
    def scratch(self) -> Path:
        """A folder kept across interruptions (for resumable partial work) and removed on success."""
        partial = self.workspace.root / ".partial"
        d = partial / self.record.name
        for folder in (partial, d):
            if folder.is_symlink():  # our cache, never a way out: drop the link itself, not what it points to
                folder.unlink()
            folder.mkdir(exist_ok=True)
        return d

    def add_output(self, relpath: str) -> Path:
        """Declare an output (relative to the workspace) and return its absolute path."""
        self.outputs.append(relpath)
        return self.workspace.inside(relpath)


class Workspace:
    """A run directory (``--workspace``). Every stage is recorded in ``manifest.json``.

    A stage run with the same input hashes and parameters as a finished one, whose outputs are still intact,
    is a no-op; an interrupted one keeps its ``.partial/<stage>`` folder so it can resume.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise EmbedtuneError(f"{self.root}: cannot create workspace ({e.strerror})") from None

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def load_manifest(self) -> Manifest:
        if not self.manifest_path.exists():
            return Manifest(embedtune_version=__version__)
        try:
            return Manifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        except ValueError:
            raise EmbedtuneError(f"{self.manifest_path}: not a valid embedtune manifest") from None

    def _save(self, record: StageRecord) -> None:
        manifest = self.load_manifest()
        manifest.embedtune_version = __version__
        manifest.stages[record.name] = record
        write_json(self.manifest_path, manifest.model_dump())

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def inside(self, relpath: str) -> Path:
        """``root / relpath`` for writing; EmbedtuneError when a folder on the way is a symbolic link."""
        target = self.root / relpath
        folder = self.root
        for part in Path(relpath).parent.parts:
            folder = folder / part
            if folder.is_symlink():
                raise EmbedtuneError(f"{folder}: a symbolic link inside the workspace; remove it (outputs are "
                                     f"only written into the workspace's own folders)")
        return target

    def lock(self) -> AbstractContextManager[None]:
        """Hold this workspace for the ``with`` block (re-entrant); refuses when another process holds it.

        Every :meth:`stage` takes it; a command running several stages should hold it throughout.
        """
        return workspace_lock(self.root)

    def _portable(self, inputs: dict[str, str]) -> dict[str, str]:
        """Input paths inside the workspace relative to it, so a moved or copied workspace stays current."""
        root = self.root.resolve()
        out = {}
        for path, digest in inputs.items():
            try:
                p = Path(path).resolve()
            except (OSError, RuntimeError):  # a symlink loop (an input that was skipped) stays as given
                out[path] = digest
                continue
            out[p.relative_to(root).as_posix() if p.is_relative_to(root) else path] = digest
        return out

    def stage_record(self, name: str) -> StageRecord | None:
        return self.load_manifest().stages.get(name)

    def is_current(self, name: str, inputs: dict[str, str], params: dict[str, Any]) -> bool:
        """True when ``name`` finished with these inputs and params and its outputs are unchanged."""
        rec = self.stage_record(name)
        if rec is None or rec.status != "done":
            return False
        if rec.inputs != self._portable(inputs) or rec.params_hash != sha256_json(params):
            return False
        return all(
            (self.root / p).exists() and sha256_file(self.root / p) == h for p, h in rec.outputs.items()
        )

    @contextmanager
    def stage(self, name: str, inputs: dict[str, str], params: dict[str, Any]) -> Iterator[StageRun]:
        """Run a stage: marks it running, and on success records output hashes and timing.

        On an exception the record says ``failed`` with the message and the scratch folder is kept.
        The workspace lock is held throughout, so a second process is refused before it writes anything.
        """
        with self.lock(), self._stage(name, inputs, params) as run:
            yield run

    @contextmanager
    def _stage(self, name: str, inputs: dict[str, str], params: dict[str, Any]) -> Iterator[StageRun]:
        from embedtune.hardware import capability_record

        record = StageRecord(name=name, inputs=self._portable(inputs), params=params, params_hash=sha256_json(params),
                             machine=capability_record())
        self._save(record)
        run = StageRun(self, record)
        t0 = time.perf_counter()
        try:
            yield run
        except BaseException as e:
            record.status = "failed"
            record.error = str(e) or type(e).__name__
            record.seconds = round(time.perf_counter() - t0, 3)
            self._save(record)
            raise
        record.outputs = {p: sha256_file(self.root / p) for p in run.outputs}
        record.status = "done"
        record.finished_at = utcnow()
        record.seconds = round(time.perf_counter() - t0, 3)
        self._save(record)
        scratch = self.root / ".partial" / name
        if scratch.is_symlink():
            scratch.unlink()
        else:
            shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / ".partial").rmdir()  # only when no other stage has partial work
