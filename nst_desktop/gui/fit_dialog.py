"""The question before a run that does not fit: run at the largest size that fits (the default),
run at the chosen size anyway, or cancel."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_run_size(parent: QWidget | None, fit: Any, size: int) -> int | None:
    """The size to run at after the user's answer, or None to start nothing.

    ``fit`` is the planner's :class:`~nst_desktop.core.planner.Fit` for ``size``.
    """
    from nst_desktop.core.planner import MIN_FIT_SIZE

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("This run does not fit")
    box.setText("This run needs more memory than is free.")
    box.setInformativeText(
        fit.sentence(size) + " Started anyway, the memory guard ends it before the computer "
        "starts swapping."
    )
    smaller = None
    if fit.largest >= MIN_FIT_SIZE:
        smaller = box.addButton(f"Run at {fit.largest} px", QMessageBox.ButtonRole.AcceptRole)
    anyway = box.addButton(f"Run at {size} px anyway", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(smaller or cancel)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    if smaller is not None and clicked is smaller:
        return fit.largest
    if clicked is anyway:
        return size
    return None
