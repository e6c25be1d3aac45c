"""Which signals a teacher combines, and loading the models behind them (one line with the install hint if missing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.models.registry import registry_spec, resolve_model
from embedtune.teach.config import TeachConfig

BASE = "base"  # ``dense: base``: the base model is the dense signal
SIGNALS = {
    "cross-encoder": ("cross-encoder",),
    "dense": ("dense",),
    "fusion": ("bm25", "dense"),
    "ensemble": ("cross-encoder", "bm25", "dense"),
}


def _installed(name: str) -> Path | None:
    spec = registry_spec(name)
    if spec is not None:
        return spec.locate()
    path = Path(name).expanduser()
    return path if path.exists() else None


@dataclass(frozen=True)
class TeacherPlan:
    """The resolved teacher: its name, its signals, and the model behind each model signal."""

    name: str
    signals: tuple[str, ...]
    cross_encoder: Path | None
    dense: Path | None  # None: the dense signal comes from the base model

    def describe(self) -> str:
        parts = {"cross-encoder": self.cross_encoder.name if self.cross_encoder else None, "bm25": "BM25",
                 "dense": self.dense.name if self.dense else "base model"}
        return f"{self.name}: " + " + ".join(str(parts[s]) for s in self.signals)


def plan_teacher(config: TeachConfig) -> TeacherPlan:
    """Resolve ``config.teacher`` (``auto``: the ensemble when the teachers are installed, else BM25 + base model)."""
    ce = _installed(config.cross_encoder)
    dense = None if config.dense == BASE else _installed(config.dense)
    name = config.teacher
    if name == "auto":
        name = "ensemble" if ce is not None else "fusion"
    signals = SIGNALS[name]
    if "cross-encoder" in signals and ce is None:
        from embedtune.retrieval.rerank import resolve_cross_encoder

        resolve_cross_encoder(config.cross_encoder)  # raises the one-line error with the install hint
        raise EmbedtuneError(f"cross-encoder {config.cross_encoder!r} not found")
    if name == "dense" and dense is None and config.dense != BASE:
        resolve_model(config.dense)  # the explicit dense teacher must exist: one line with its install hint
    return TeacherPlan(name, signals, ce if "cross-encoder" in signals else None, dense if "dense" in signals else None)
