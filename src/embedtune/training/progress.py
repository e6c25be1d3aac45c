"""A rich progress bar for the trainer: steps done of total, ETA, and the latest loss and dev NDCG@10."""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from embedtune.progress import progress_bar


class RichProgressCallback(TrainerCallback):
    """Replaces the trainer's tqdm bars (turned off with ``disable_tqdm``) with the style of every other stage."""

    def __init__(self) -> None:
        self._bar = None
        self._task = None
        self._loss = ""
        self._dev = ""

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._bar = progress_bar()
        self._bar.start()
        self._task = self._bar.add_task("training", total=state.max_steps, completed=state.global_step)

    def _describe(self) -> str:
        return " ".join(p for p in ("training", self._loss, self._dev) if p)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=state.global_step, description=self._describe())

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        logs = logs or {}
        if "loss" in logs:
            self._loss = f"loss {logs['loss']:.3f}"
        if dev := next((v for k, v in logs.items() if k.endswith("_cosine_ndcg@10")), None):
            self._dev = f"dev ndcg@10 {dev:.3f}"

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
