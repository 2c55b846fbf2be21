"""Which folded groups of the Expert tab are open (``model.groups``): the model's, not the
headers', so the window keeps them between sessions like its other preferences."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QObject, Signal


class OpenGroups(QObject):
    """The titles of the open groups; all folded at first."""

    changed = Signal(object)  # frozenset[str]: the open groups' titles

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open: frozenset[str] = frozenset()

    @property
    def open(self) -> frozenset[str]:
        return self._open

    def set_open(self, title: str, opened: bool) -> None:
        self.set_all(self._open | {title} if opened else self._open - {title})

    def set_all(self, titles: Iterable[str]) -> None:
        titles = frozenset(titles)
        if titles != self._open:
            self._open = titles
            self.changed.emit(titles)

    def to_pref(self) -> list[str]:
        return sorted(self._open)

    def restore(self, stored: Any, known: Iterable[str]) -> None:
        """Open the groups ``stored`` names (a list of titles, as :meth:`to_pref` wrote it);
        anything else stored there (damage, a group of another version) is left out."""
        if not isinstance(stored, list):
            return
        known = set(known)
        self.set_all(t for t in stored if isinstance(t, str) and t in known)
