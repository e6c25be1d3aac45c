"""What every backend's store shares: name resolution, the ``live`` alias rules, promote and rollback.

A backend supplies where metas live, how to open a version, and how to switch ``live`` (with the promote
history) in one atomic step; this class supplies the checks: unknown names, incomplete versions, an empty
history. The history is a stack of earlier live versions: promote pushes the one it replaces, rollback pops.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from embedtune.errors import EmbedtuneError
from embedtune.index.base import LIVE, IndexMeta, IndexVersion, validate_name


class BaseStore(ABC):
    """Shared half of :class:`embedtune.index.base.IndexStore`; subclasses implement the ``_`` methods."""

    backend: str
    uri: str

    @abstractmethod
    def _metas(self) -> dict[str, IndexMeta]:
        """Every embedtune version of the store by name."""

    @abstractmethod
    def _open(self, meta: IndexMeta) -> IndexVersion: ...

    @abstractmethod
    def _create(self, meta: IndexMeta) -> IndexVersion: ...

    @abstractmethod
    def save_meta(self, meta: IndexMeta) -> None: ...

    @abstractmethod
    def live_name(self) -> str | None: ...

    @abstractmethod
    def history(self) -> list[str]: ...

    @abstractmethod
    def _switch(self, name: str, history: list[str]) -> None:
        """Point ``live`` at ``name`` and record ``history``, atomically for readers of ``live``."""

    # ------------------------------------------------------------------ reading

    def versions(self) -> list[IndexMeta]:
        """Every version, oldest first."""
        return sorted(self._metas().values(), key=lambda m: (m.created_at, m.name))

    def meta(self, name: str) -> IndexMeta:
        """The meta of version ``name`` (or of the live one for ``"live"``); EmbedtuneError if unknown."""
        if name == LIVE:
            live = self.live_name()
            if live is None:
                raise EmbedtuneError(
                    f"store {self.uri} has no live version yet; promote one with "
                    f"`embedtune index promote NAME --store {self.uri}`"
                )
            name = live
        metas = self._metas()
        if name not in metas:
            have = ", ".join(sorted(metas)) or "none"
            raise EmbedtuneError(f"no index version {name!r} in store {self.uri} (versions: {have})")
        return metas[name]

    def open(self, name: str = LIVE) -> IndexVersion:
        return self._open(self.meta(name))

    def create(self, meta: IndexMeta) -> IndexVersion:
        validate_name(meta.name)
        if meta.name in self._metas():
            raise EmbedtuneError(f"index version {meta.name!r} already exists in store {self.uri}")
        return self._create(meta)

    # ------------------------------------------------------------------ the live alias

    def promote(self, name: str) -> None:
        meta = self.meta(name)
        if not meta.complete:
            raise EmbedtuneError(
                f"index version {name!r} is incomplete (its build was interrupted or is still running): rerun "
                f"`embedtune index build` with the same arguments to finish it, then promote"
            )
        live = self.live_name()
        if live == meta.name:
            return  # already live: nothing to switch, and no history entry pointing at itself
        history = self.history() + [live] if live is not None else self.history()
        self._switch(meta.name, history)

    def rollback(self) -> str:
        history = self.history()
        if not history:
            raise EmbedtuneError(f"store {self.uri}: nothing to roll back to (no earlier live version recorded)")
        previous = history[-1]
        meta = self.meta(previous)  # its data is kept, but say so clearly if someone removed it
        if not meta.complete:
            raise EmbedtuneError(f"cannot roll back to {previous!r}: that version is incomplete")
        self._switch(previous, history[:-1])
        return previous
