"""The View menu's switches for the picture side: the loss plot (shown, relative to the start)
and focus mode (F11: the panels, the plot and the history strip go away so the picture fills
the window)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

from nst_desktop.gui.picture_area import PictureArea

FOCUS_KEY = "F11"


class ViewActions(QObject):
    """Adds the plot and focus switches to ``menu``; ``panels`` are hidden in focus mode."""

    def __init__(
        self,
        window: QMainWindow,
        menu: QMenu,
        area: PictureArea,
        panels: list[QWidget],
        status=None,
    ) -> None:
        super().__init__(window)
        self.window, self.area, self.panels = window, area, panels
        self._status = status  # callable(str) for a one-line hint, or None
        self._before_focus: dict[QWidget, bool] = {}
        menu.addSeparator()
        self.plot_action = self._checkable(menu, "Loss plot", "Ctrl+Shift+L", True)
        self.plot_action.toggled.connect(self._plot_toggled)
        self.relative_action = self._checkable(menu, "Loss plot relative to the start", None, True)
        self.relative_action.toggled.connect(area.loss_plot.set_relative)
        area.loss_plot.relativeChanged.connect(self.relative_action.setChecked)
        area.plot_splitter.splitterMoved.connect(lambda *_: self._sync_plot_action())
        menu.addSeparator()
        self.focus_action = self._checkable(menu, "Focus on the picture", FOCUS_KEY, False)
        self.focus_action.setToolTip(
            "Hide the panels, the plot and the history; the same key brings them back."
        )
        self.focus_action.toggled.connect(self.set_focus_mode)

    def _checkable(self, menu: QMenu, text: str, key: str | None, on: bool) -> QAction:
        act = QAction(text, self.window)
        act.setCheckable(True)
        act.setChecked(on)
        if key:
            act.setShortcut(QKeySequence(key))
        menu.addAction(act)
        return act

    @property
    def focused(self) -> bool:
        return bool(self._before_focus)

    def _plot_toggled(self, shown: bool) -> None:
        if self.focused:  # showing the plot leaves focus mode with the panels
            self.focus_action.setChecked(False)
        self.area.show_plot(shown)

    def _sync_plot_action(self) -> None:
        shown = self.area.plot_shown()
        if shown != self.plot_action.isChecked():
            blocked = self.plot_action.blockSignals(True)
            self.plot_action.setChecked(shown)
            self.plot_action.blockSignals(blocked)
            self.area.loss_plot.setVisible(shown)

    def set_focus_mode(self, on: bool) -> None:
        """Hide (on) or give back (off) the panels and the plot as they were."""
        if on == self.focused:
            return
        if self.focus_action.isChecked() != on:
            self.focus_action.setChecked(on)  # re-enters with the flag already set: returns
            return
        widgets = [*self.panels, self.area.loss_plot]
        if on:
            self._before_focus = {w: not w.isHidden() for w in widgets}
            for w in widgets:
                w.hide()
            if self._status is not None:
                self._status(f"Focus on the picture: {FOCUS_KEY} brings the panels back.")
        else:
            for w, shown in self._before_focus.items():
                w.setVisible(shown)
            self._before_focus = {}
