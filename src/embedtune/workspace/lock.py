"""One process at a time per workspace: an advisory lock on ``<workspace>/.lock``.

Two runs writing one workspace corrupt each other's temp files and manifest records, so the second one is
refused at once with the holder's pid, host and start time. The lock is ``flock`` on an open file: the kernel
drops it when the holder exits or is killed, so a stale ``.lock`` file from a dead process never blocks.
Within one process the lock is re-entrant (``embedtune run`` holds it while each stage takes it again).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.workspace.manifest import utcnow

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not guarded there
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"

_held: dict[str, tuple[int, int]] = {}  # resolved workspace -> (fd, depth), for re-entrancy in this process
_guard = threading.Lock()


class WorkspaceBusy(EmbedtuneError):
    """Another process holds the workspace."""


def _holder(fd: int) -> str:
    """The holder as ``pid N on HOST since T``, from the lock file (best effort: it may be mid-write)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        return f"pid {info['pid']} on {info['host']} since {info['started_at']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _acquire(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)  # never lock (or write) through a symlink
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as e:
        raise EmbedtuneError(f"{path}: cannot open the workspace lock ({e.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise WorkspaceBusy(
            f"{path.parent}: workspace in use by {holder}; wait for it to finish or use another workspace"
        ) from None
    except OSError:  # a filesystem without flock: run unguarded rather than not at all
        return fd
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": utcnow()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    return fd


@contextmanager
def workspace_lock(root: str | Path) -> Iterator[None]:
    """Hold the lock of workspace ``root`` for the ``with`` block; WorkspaceBusy when another process has it."""
    if fcntl is None:
        yield
        return
    path = Path(root) / LOCK_FILE
    key = str(Path(root).resolve())
    with _guard:
        fd, depth = _held[key] if key in _held else (_acquire(path), 0)
        _held[key] = (fd, depth + 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                os.close(fd)  # releases the flock; the file stays, harmless to the next holder
