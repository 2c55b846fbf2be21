"""The Basic view: the knobs an artist thinks in (style strength, brush size, detail ↔ large
forms, keep my photo's colours, quality, seed). Each maps onto the same RunSettings fields the
Expert tabs show (core.artist, core.quality); the panel reports edits as field values and shows
the model's settings, never its own state.

Usage::

    panel = BasicPanel()
    model.settingsChanged.connect(panel.show_settings)
    panel.edited.connect(lambda values: model.update_settings(**values))
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core import artist as A
from nst_desktop.core.quality import QUALITIES, describe, quality_of, with_quality
from nst_desktop.core.settings import Mode, RunSettings, applies
from nst_desktop.gui.print_size import PrintSize

STRENGTH_STEPS_PER_DECADE = 20
BRUSH_STEPS_PER_OCTAVE = 4
BRUSH_OCTAVES = 2  # brush size 1/4 .. 4 times the style image's own scale


def _slider(lo: int, hi: int, tip: str) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setToolTip(tip)
    s.setPageStep(max(1, (hi - lo) // 8))
    return s


def _ends(left: str, slider: QWidget, right: str, value: QLabel | None = None) -> QWidget:
    """A slider between the words of its two ends (and its value after them)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(QLabel(left))
    row.addWidget(slider, 1)
    row.addWidget(QLabel(right))
    if value is not None:
        value.setMinimumWidth(44)
        row.addWidget(value)
    return box


class BasicPanel(QWidget):
    """See the module docstring."""

    edited = Signal(dict)  # {field name: new value} for each edit a user makes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = RunSettings()
        self._quiet = False
        decades = A.STRENGTH_DECADES
        self.strength = _slider(
            0,
            int(2 * decades * STRENGTH_STEPS_PER_DECADE),
            "How much of the artwork goes into the picture against how much of your photo stays "
            "(the style/content balance, on a log scale; x1 is the usual balance).",
        )
        self.strength_value = QLabel()
        self.brush = _slider(
            -BRUSH_OCTAVES * BRUSH_STEPS_PER_OCTAVE,
            BRUSH_OCTAVES * BRUSH_STEPS_PER_OCTAVE,
            "The size of the artwork's strokes in the picture (the style image's scale).",
        )
        self.brush_value = QLabel()
        self.detail = _slider(
            0,
            len(A.TILTS) - 1,
            "Which of the artwork's features carry the weight: its fine texture and colour "
            "(left) or its large shapes and strokes (right); the middle weighs them equally.",
        )
        self.detail.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.detail_note = QLabel(
            "Your own choice of layers (Expert → Layers); moving this resets it."
        )
        self.detail_note.setWordWrap(True)
        self.detail_note.setStyleSheet("color: palette(mid);")
        self.colours = QCheckBox("Keep my photo's colours")
        self.colours.setToolTip(
            "Paint with the artwork's brushwork but your photo's colours (the method is in "
            "Expert → Look: luminance or histogram)."
        )
        self.quality_group = QButtonGroup(self)
        quality_row = QHBoxLayout()
        quality_row.setContentsMargins(0, 0, 0, 0)
        for i, name in enumerate(QUALITIES):
            button = QRadioButton(QUALITIES[name][0])
            button.setObjectName(f"quality_{name}")
            button.setToolTip(describe(name))
            self.quality_group.addButton(button, i)
            quality_row.addWidget(button)
        quality_row.addStretch(1)
        self.quality_note = QLabel()
        self.quality_note.setWordWrap(True)
        self.print_size = PrintSize()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip(
            "The same seed and settings give the same picture; a new one varies it."
        )
        self.new_seed = QPushButton("New")
        self.new_seed.setToolTip("A new random seed (Ctrl+R).")
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.new_seed)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Style strength", _ends("subtle", self.strength, "bold", self.strength_value))
        form.addRow("Brush size", _ends("fine", self.brush, "broad", self.brush_value))
        form.addRow("Emphasis", _ends("fine detail", self.detail, "large forms"))
        form.addRow("", self.detail_note)
        form.addRow("", self.colours)
        quality_box = QWidget()
        quality_box.setLayout(quality_row)
        form.addRow("Quality", quality_box)
        form.addRow("", self.quality_note)
        form.addRow("Print size", self.print_size)
        self.print_label = form.labelForField(self.print_size)
        form.addRow("Seed", seed_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        hint = QLabel("Everything else is in the Expert and Presets tabs.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        layout.addWidget(hint)
        layout.addStretch(1)

        self.strength.valueChanged.connect(lambda v: self._edit(self._strength_edit, v))
        self.brush.valueChanged.connect(lambda v: self._edit(self._brush_edit, v))
        self.detail.valueChanged.connect(lambda v: self._edit(self._detail_edit, v))
        self.colours.toggled.connect(lambda on: self._edit(self._colours_edit, on))
        self.quality_group.idClicked.connect(lambda i: self._edit(self._quality_edit, i))
        self.print_size.edited.connect(lambda size: self._emit({"size": int(size)}))
        self.seed.valueChanged.connect(lambda v: self._emit({"seed": int(v)}))
        self.new_seed.clicked.connect(lambda: self._emit({"seed": random.randrange(0, 2**31 - 1)}))
        self.show_settings(self._settings)

    # ----------------------------------------------------------------- edits
    def _emit(self, values: dict) -> None:
        if not self._quiet and values:
            self.edited.emit(values)

    def _edit(self, make: Callable[[RunSettings, object], RunSettings], value: object) -> None:
        if self._quiet:
            return
        old = self._settings
        new = make(old, value)
        names = ("content_weight", "style_weight", "style_scale", "style_layers", "color",
                 "size", "steps", "scales", "coarse_steps")  # fmt: skip
        self._emit({n: getattr(new, n) for n in names if getattr(new, n) != getattr(old, n)})

    @staticmethod
    def _strength_edit(s: RunSettings, v: object) -> RunSettings:
        factor = 10 ** (int(v) / STRENGTH_STEPS_PER_DECADE - A.STRENGTH_DECADES)
        return A.with_style_strength(s, factor)

    @staticmethod
    def _brush_edit(s: RunSettings, v: object) -> RunSettings:
        return dataclasses.replace(s, style_scale=round(2 ** (int(v) / BRUSH_STEPS_PER_OCTAVE), 3))

    @staticmethod
    def _detail_edit(s: RunSettings, v: object) -> RunSettings:
        return A.with_tilt(s, A.TILTS[int(v)])

    @staticmethod
    def _colours_edit(s: RunSettings, on: object) -> RunSettings:
        return A.with_colours_kept(s, bool(on))

    @staticmethod
    def _quality_edit(s: RunSettings, i: object) -> RunSettings:
        name = list(QUALITIES)[int(i)]
        keep = name == "print" and quality_of(s) == "print"  # Print again keeps its print size
        return with_quality(s, name, s.size if keep else None)

    # ----------------------------------------------------------------- showing
    def show_estimate(self, text: str) -> None:
        """The window's estimate for the current settings: the Print size shows it as its plan."""
        self.print_size.show_plan(text)

    def show_settings(self, settings: RunSettings) -> None:
        """Show ``settings`` (emits nothing) and enable what applies to their mode."""
        self._settings = settings
        self._quiet = True
        try:
            self._show(settings)
        finally:
            self._quiet = False

    def _show(self, s: RunSettings) -> None:
        factor = A.style_strength(s)
        if math.isfinite(factor) and factor > 0:
            pos = (math.log10(factor) + A.STRENGTH_DECADES) * STRENGTH_STEPS_PER_DECADE
            self.strength.setValue(round(pos))
            self.strength_value.setText(f"×{factor:.2g}")
        else:
            self.strength.setValue(self.strength.maximum())
            self.strength_value.setText("style only")
        self.brush.setValue(round(math.log2(s.style_scale) * BRUSH_STEPS_PER_OCTAVE))
        self.brush_value.setText(f"×{s.style_scale:.2g}")
        tilt = A.tilt_of(s)
        self.detail.setValue(A.TILTS.index(tilt) if tilt is not None else len(A.TILTS) // 2)
        self.detail_note.setVisible(tilt is None)
        self.colours.setChecked(A.keeps_colours(s))
        tier = quality_of(s)
        self.quality_group.setExclusive(False)  # so that no button is checked for "custom"
        for i, name in enumerate(QUALITIES):
            self.quality_group.button(i).setChecked(name == tier)
        self.quality_group.setExclusive(True)
        self.quality_note.setText(
            describe(tier, s.size) if tier else f"Custom: {s.size} px, {s.steps} iterations"
        )
        self.print_size.show_size(s.size)
        for widget in (self.print_size, self.print_label):
            widget.setVisible(tier == "print")
        self.seed.setValue(s.seed)
        mode = Mode(s.mode)
        for widget, name in (
            (self.strength, "style_weight"),
            (self.colours, "color"),
            (self.brush, "style_scale"),
            (self.detail, "style_layers"),
        ):
            widget.setEnabled(applies(name, mode))
