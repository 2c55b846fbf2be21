"""Stand-ins for the window's dialogs in tests: what the user picks, without a modal loop."""

from __future__ import annotations

from collections.abc import Callable

from nst_desktop.gui.variations_dialog import VariationsDialog


def accepting_variations(knob: str, values: str) -> Callable[[VariationsDialog], int]:
    """For ``VariationsDialog.exec``: the user picks ``knob`` and ``values`` and presses OK."""

    def exec_(dialog: VariationsDialog) -> int:
        dialog.choose(knob, values)
        dialog.accept()
        return dialog.result()

    return exec_
