"""The knobs, generated from :class:`RunSettings`' field metadata (label, range, help, modes).

Ranges and defaults live in the settings dataclass only: a spin box cannot hold a value the
dataclass would refuse, and a knob that has no effect in the current mode is disabled with a
tooltip that says so.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.settings import RunSettings, applies, field_meta

CHOICE_LABELS: dict[str, dict[str, str]] = {
    "optimizer": {"lbfgs": "L-BFGS (fewer iterations)", "adam": "Adam (less memory)"},
    "pool": {"avg": "Average (smoother)", "max": "Max (VGG's own)"},
    "color": {"none": "No (take the style's)", "luminance": "Luminance", "histogram": "Histogram"},
    "precision": {"auto": "Auto", "float32": "float32", "bfloat16": "bfloat16"},
}
BASIC = (
    "size",
    "steps",
    "content_weight",
    "style_weight",
    "tv_weight",
    "style_scale",
    "color",
    "init",
    "seed",
)
ADVANCED = (
    "optimizer",
    "lr",
    "lbfgs_history",
    "lbfgs_line_search",
    "pool",
    "scales",
    "coarse_steps",
    "precision",
    "device",
    "weights",
    "threads",
    "save_every",
)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"
WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt);;All files (*)"


class SciSpinBox(QDoubleSpinBox):
    """A spin box for weights spanning many decades: shows 1e+06 as "1e+06", steps by x2."""

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(lo, hi)
        self.setKeyboardTracking(False)

    # QDoubleSpinBox sizes itself for the maximum at full precision (1e12 with 12 decimals is
    # 25 digits): far wider than any value shown here.
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(110, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(70, super().minimumSizeHint().height())

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        if value == self.minimum() and self.specialValueText():
            return self.specialValueText()
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt API)
        if self.specialValueText() and text.strip() == self.specialValueText():
            return self.minimum()
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        stripped = text.strip()
        if self.specialValueText() and stripped == self.specialValueText():
            return QValidator.State.Acceptable, text, pos
        if stripped in ("", "-", ".", "e", "+") or stripped.lower().endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        try:
            value = float(text)
        except ValueError:
            return self.textFromValue(self.value())
        return self.textFromValue(min(max(value, self.minimum()), self.maximum()))

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt API)
        value = self.value()
        if value <= 0:
            value = 1.0 if steps > 0 else 0.0
        else:
            value *= 2.0**steps
        self.setValue(min(max(value, self.minimum()), self.maximum()))


class _Knob:
    """A widget plus how to read and write its RunSettings value."""

    def __init__(self, widget: QWidget, get: Callable[[], Any], put: Callable[[Any], None]) -> None:
        self.widget = widget
        self.get = get
        self.put = put
        self.label: QLabel | None = None


class SettingsPanel(QWidget):
    """Every scalar knob of a run (layers, images and blend weights have their own panels)."""

    changed = Signal()
    error = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mode = "transfer"
        self._devices: list[tuple[str, str]] = [("cpu", "CPU")]
        self._settings = RunSettings()
        self.knobs: dict[str, _Knob] = {}
        self._quiet = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, names in (("Basics", BASIC), ("Advanced", ADVANCED)):
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for name in names:
                knob = self._make(name)
                meta = field_meta(name)
                knob.label = QLabel(meta["label"])
                knob.label.setToolTip(meta["help"])
                knob.widget.setToolTip(meta["help"])
                knob.widget.setObjectName(f"knob_{name}")
                if isinstance(knob.widget, QComboBox):  # long item texts must not widen the panel
                    knob.widget.setSizeAdjustPolicy(
                        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                    )
                    knob.widget.setMinimumContentsLength(12)
                form.addRow(knob.label, knob.widget)
                self.knobs[name] = knob
            layout.addWidget(box)
        layout.addStretch(1)
        self.set_settings(self._settings)

    # ----------------------------------------------------------------- public API
    def apply_to(self, settings: RunSettings) -> RunSettings:
        """``settings`` with this panel's values (a new object; the layers etc. are kept)."""
        import dataclasses

        values = {name: knob.get() for name, knob in self.knobs.items()}
        return dataclasses.replace(settings, **values)

    def set_settings(self, settings: RunSettings) -> None:
        """Show ``settings``' values (without emitting ``changed`` for each knob)."""
        self._settings = settings
        self._quiet = True
        try:
            for name, knob in self.knobs.items():
                knob.put(getattr(settings, name))
        finally:
            self._quiet = False
        self._update_enabled()

    def set_mode(self, mode: str) -> None:
        self._mode = mode
        self._update_enabled()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """The devices found on this computer, as (settings value, label)."""
        current = self.knobs["device"].get()
        self._devices = list(devices)
        self._fill_devices()
        self.knobs["device"].put(current)

    def roll_seed(self) -> None:
        self.knobs["seed"].put(random.randrange(0, 2**31 - 1))
        self._emit()

    # ----------------------------------------------------------------- building
    def _emit(self) -> None:
        if not self._quiet:
            self._update_enabled()
            self.changed.emit()

    def _make(self, name: str) -> _Knob:
        meta = field_meta(name)
        special = {
            "lr": self._make_lr,
            "init": self._make_init,
            "seed": self._make_seed,
            "device": self._make_device,
            "weights": self._make_weights,
            "threads": self._make_threads,
        }
        if name in special:
            return special[name]()
        value = getattr(RunSettings(), name)
        if meta["choices"]:
            combo = QComboBox()
            labels = CHOICE_LABELS.get(name, {})
            for choice in meta["choices"]:
                combo.addItem(labels.get(choice, choice), choice)
            combo.currentIndexChanged.connect(lambda _i: self._emit())
            return _Knob(combo, combo.currentData, lambda v: _select(combo, v))
        if isinstance(value, bool):
            box = QCheckBox()
            box.toggled.connect(lambda _b: self._emit())
            return _Knob(box, box.isChecked, box.setChecked)
        if isinstance(value, int):
            spin = QSpinBox()
            spin.setRange(int(meta["min"]), int(meta["max"]))
            spin.setKeyboardTracking(False)
            if name == "size":
                spin.setSingleStep(64)
                spin.setSuffix(" px")
            if name == "save_every":
                spin.setSpecialValueText("never")
            spin.valueChanged.connect(lambda _v: self._emit())
            return _Knob(spin, spin.value, spin.setValue)
        if meta["log"]:
            sci = SciSpinBox(meta["min"], meta["max"])
            sci.valueChanged.connect(lambda _v: self._emit())
            return _Knob(sci, sci.value, sci.setValue)
        dbl = QDoubleSpinBox()
        dbl.setRange(meta["min"], meta["max"])
        dbl.setDecimals(2)
        dbl.setSingleStep(0.1)
        dbl.setKeyboardTracking(False)
        dbl.valueChanged.connect(lambda _v: self._emit())
        return _Knob(dbl, dbl.value, dbl.setValue)

    def _make_lr(self) -> _Knob:
        meta = field_meta("lr")
        # 0 stands for "the optimizer's default" (None), shown as text.
        spin = SciSpinBox(0.0, meta["max"])
        spin.setSpecialValueText("auto")
        spin.valueChanged.connect(lambda _v: self._emit())

        def get() -> float | None:
            value = spin.value()
            return None if value <= 0 else max(value, meta["min"])

        return _Knob(spin, get, lambda v: spin.setValue(0.0 if v is None else v))

    def _make_init(self) -> _Knob:
        combo = QComboBox()
        for label, value in (
            ("White noise", "noise"),
            ("The content photo", "content"),
            ("The first style image", "style"),
            ("An image file…", "__file__"),
        ):
            combo.addItem(label, value)
        state = {"index": 0}

        def changed(index: int) -> None:
            if combo.itemData(index) == "__file__" and not self._quiet:
                path, _ = QFileDialog.getOpenFileName(
                    self, "Start from which picture?", "", IMAGE_FILTER
                )
                if not path:
                    _quietly(combo, lambda: combo.setCurrentIndex(state["index"]))
                    return
                _quietly(combo, lambda: _set_file_item(combo, path))
            state["index"] = combo.currentIndex()
            self._emit()

        def get() -> str:
            value = combo.currentData()
            return "noise" if value in (None, "__file__") else value

        def put(value: str) -> None:
            if value in ("noise", "content", "style"):
                _quietly(combo, lambda: _select(combo, value))
            else:
                _quietly(combo, lambda: _set_file_item(combo, value))
            state["index"] = combo.currentIndex()

        combo.currentIndexChanged.connect(changed)
        return _Knob(combo, get, put)

    def _make_seed(self) -> _Knob:
        meta = field_meta("seed")
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        spin = QSpinBox()
        spin.setRange(int(meta["min"]), int(meta["max"]))
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda _v: self._emit())
        dice = QToolButton()
        dice.setText("Roll")
        dice.setObjectName("seedDice")
        dice.setToolTip("A new random seed: the same settings give a different picture.")
        dice.clicked.connect(self.roll_seed)
        row.addWidget(spin, 1)
        row.addWidget(dice)
        self.seed_dice = dice
        return _Knob(holder, spin.value, spin.setValue)

    def _make_device(self) -> _Knob:
        combo = QComboBox()
        self._device_combo = combo
        self._fill_devices()
        combo.currentIndexChanged.connect(lambda _i: self._emit())

        def put(value: str) -> None:
            if combo.findData(value) < 0:
                combo.addItem(f"{value} (not found here)", value)
            _select(combo, value)

        return _Knob(combo, lambda: combo.currentData() or "auto", put)

    def _fill_devices(self) -> None:
        combo = self._device_combo
        _quietly(combo, combo.clear)
        best = self._devices[0][1] if self._devices else "CPU"
        items = [("auto", f"Auto ({best})")] + self._devices
        for value, label in items:
            _quietly(combo, lambda v=value, lab=label: combo.addItem(lab, v))

    def _make_weights(self) -> _Knob:
        combo = QComboBox()
        combo.addItem("ImageNet VGG19 (torchvision)", "torchvision")
        combo.addItem("Random, untrained (for trying the app)", "random")
        combo.addItem("A weights file…", "__file__")
        state = {"index": 0}

        def changed(index: int) -> None:
            if combo.itemData(index) == "__file__" and not self._quiet:
                path, _ = QFileDialog.getOpenFileName(
                    self, "Choose VGG19 weights", "", WEIGHTS_FILTER
                )
                if not path:
                    _quietly(combo, lambda: combo.setCurrentIndex(state["index"]))
                    return
                _quietly(combo, lambda: _set_file_item(combo, path))
            state["index"] = combo.currentIndex()
            self._emit()

        def put(value: str) -> None:
            if value in ("torchvision", "random"):
                _quietly(combo, lambda: _select(combo, value))
            else:
                _quietly(combo, lambda: _set_file_item(combo, value))
            state["index"] = combo.currentIndex()

        def get() -> str:
            value = combo.currentData()
            return "torchvision" if value in (None, "__file__") else value

        combo.currentIndexChanged.connect(changed)
        return _Knob(combo, get, put)

    def _make_threads(self) -> _Knob:
        meta = field_meta("threads")
        spin = QSpinBox()
        spin.setRange(int(meta["min"]), int(meta["max"]))
        spin.setSpecialValueText("all cores")
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda _v: self._emit())
        return _Knob(spin, spin.value, spin.setValue)

    def _update_enabled(self) -> None:
        lbfgs = self.knobs["optimizer"].get() == "lbfgs"
        coarse = self.knobs["scales"].get() > 1
        extra = {"lbfgs_history": lbfgs, "lbfgs_line_search": lbfgs, "coarse_steps": coarse}
        for name, knob in self.knobs.items():
            on = applies(name, self._mode) and extra.get(name, True)
            knob.widget.setEnabled(on)
            if knob.label is not None:
                knob.label.setEnabled(on)
            help_text = field_meta(name)["help"]
            if not applies(name, self._mode):
                help_text += "\n(Not used in this mode.)"
            elif not on:
                help_text += "\n(Not used with these settings.)"
            knob.widget.setToolTip(help_text)


def _select(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def _quietly(widget: QWidget, action: Callable[[], Any]) -> None:
    blocked = widget.blockSignals(True)
    try:
        action()
    finally:
        widget.blockSignals(blocked)


def _set_file_item(combo: QComboBox, path: str) -> None:
    """Show a chosen file as its own entry (kept above the "…" entry), and select it."""
    from pathlib import Path

    for i in range(combo.count()):
        if combo.itemData(i) not in ("noise", "content", "style", "torchvision", "random"):
            if combo.itemData(i) != "__file__":
                combo.removeItem(i)
                break
    index = combo.count() - 1
    combo.insertItem(index, Path(path).name, path)
    combo.setItemData(index, path, 3)  # Qt.ToolTipRole
    combo.setCurrentIndex(index)
