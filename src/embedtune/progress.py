"""One progress style for every long stage, on a terminal and in a log.

On a terminal: a live rich bar (description, bar, count, elapsed, ETA) on stderr. When stderr is not a terminal
(``embedtune run > run.log 2>&1``, CI, nohup), the bar is off and each task prints a plain line every
:data:`LOG_EVERY_S` seconds instead, plus one when it ends::

    writing queries (local): 40/128 (31%), elapsed 1m05s, eta 2m23s

The same lines go to the ``embedtune`` logger at INFO (a file, if the application configured a handler).
Consoles made here are wide when not on a terminal, so tables in logs keep every column whole.

Example::

    with progress_bar() as bar:
        task = bar.add_task("encoding", total=len(texts))
        for batch in batches:
            ...
            bar.advance(task, len(batch))
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

LOG_EVERY_S = float(os.environ.get("EMBEDTUNE_PROGRESS_EVERY", "30"))
LOG_WIDTH = 200  # console width when not a terminal: rich's default 80 folds or cuts table columns in logs

_log = logging.getLogger("embedtune")


def is_terminal(stream: TextIO | None) -> bool:
    """Whether ``stream`` is an interactive terminal (False for files, pipes, closed or missing streams)."""
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def make_console(stderr: bool = False) -> Console:
    """A rich Console for stdout (or stderr) that does not truncate tables when the stream is not a terminal.

    Example: ``make_console().print(table)`` prints the whole table into ``embedtune models > models.txt``.
    """
    stream = sys.stderr if stderr else sys.stdout
    width = None if is_terminal(stream) or os.environ.get("COLUMNS") else LOG_WIDTH
    return Console(stderr=stderr, width=width)


console = make_console(stderr=True)


def log_line(message: str) -> None:
    """Record ``message`` in the application's log (the ``embedtune`` logger, INFO); no-op without a handler."""
    _log.info(message)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    h, rest = divmod(s, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


class LoggingProgress(Progress):
    """A rich Progress that, when its live display is off, prints a plain status line per task every ``every`` s."""

    def __init__(self, *columns: Any, log_lines: bool = False, every: float | None = None, **kwargs: Any) -> None:
        super().__init__(*columns, **kwargs)
        self.log_lines = log_lines
        self.every = LOG_EVERY_S if every is None else every  # read at call time: tests and users may change it
        self._last: dict[TaskID, float] = {}  # when each task last printed (its start until the first line)
        self._printed: set[TaskID] = set()

    def add_task(self, description: str, *args: Any, **kwargs: Any) -> TaskID:
        task_id = super().add_task(description, *args, **kwargs)
        self._last[task_id] = self.get_time()
        return task_id

    def status_line(self, task_id: TaskID) -> str:
        """``description: done/total (pct), elapsed, eta`` for one task."""
        with self._lock:
            task = self._tasks[task_id]
            done, total, elapsed, remaining = task.completed, task.total, task.elapsed, task.time_remaining
            desc = task.description
        count = f"{done:g}/{total:g} ({done / total:.0%})" if total else f"{done:g}"
        eta = "done" if total and done >= total else f"eta {_duration(remaining)}"
        return f"{desc}: {count}, elapsed {_duration(elapsed)}, {eta}"

    def _emit(self, task_id: TaskID) -> None:
        line = self.status_line(task_id)
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        log_line(line)
        self._last[task_id] = self.get_time()
        self._printed.add(task_id)

    def _maybe_emit(self, task_id: TaskID) -> None:
        if self.log_lines and task_id in self._last and self.get_time() - self._last[task_id] >= self.every:
            self._emit(task_id)

    def update(self, task_id: TaskID, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(task_id, **kwargs)
        self._maybe_emit(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._maybe_emit(task_id)

    def stop(self) -> None:
        super().stop()
        if self.log_lines:
            # A final line for tasks long enough to have printed one, so the log shows where they ended.
            for task_id in sorted(self._printed):
                if task_id in self._tasks:
                    self._emit(task_id)
            self._last.clear()
            self._printed.clear()


def progress_bar(transient: bool = False, disable: bool = False) -> Progress:
    """A rich Progress on stderr: a live bar on a terminal, else a plain line every ``LOG_EVERY_S`` s per task.

    ``disable`` turns off both (no bar, no lines).
    """
    terminal = is_terminal(sys.stderr)
    return LoggingProgress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=disable or not terminal,
        log_lines=not disable and not terminal,
    )
