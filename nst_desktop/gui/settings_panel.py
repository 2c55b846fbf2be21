"""The knobs, generated from :class:`RunSettings`' field metadata (label, range, help, modes).

Ranges and defaults live in the settings dataclass only: a spin box cannot hold a value the
dataclass would refuse, and a knob that has no effect in the current mode is disabled with a
tooltip that says so. The panel shows settings it is given (:meth:`show_settings`) and reports
each edit as ``edited(name, value)``; the window model decides what the settings are.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.settings import RunSettings, applies, field_meta
from nst_desktop.gui.file_combo import FileChoiceCombo
from nst_desktop.gui.picker_support import IMAGE_FILTER
from nst_desktop.gui.spinboxes import SciSpinBox

CHOICE_LABELS: dict[str, dict[str, str]] = {
    "optimizer": {"lbfgs": "L-BFGS (fewer iterations)", "adam": "Adam (less memory)"},
    "pool": {"avg": "Average (smoother)", "max": "Max (VGG's own)"},
    "color": {"none": "No (take the style's)", "luminance": "Luminance", "histogram": "Histogram"},
    "precision": {"auto": "Auto", "float32": "float32", "bfloat16": "bfloat16"},
    "normalization": {"relative": "Relative (any network)", "paper": "Paper (Gatys et al.)"},
}
#: The Expert view's groups of knobs (the Basic tab shows the artist's few; the layers have
#: their own group, inserted after "Look" by gui/collapsible.py).
_LOOK = ("style_weight", "content_weight", "tv_weight", "style_scale", "color", "init", "seed")
_OPTIMIZER = ("optimizer", "lr", "lbfgs_history", "lbfgs_line_search", "scales", "coarse_steps")
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Look", (*_LOOK, "pool", "normalization")),
    ("Optimizer", _OPTIMIZER),
    ("Output", ("size", "steps", "save_every", "tile", "tile_sweeps")),
    ("Machine", ("device", "precision", "threads", "max_memory", "weights")),
)
WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt);;All files (*)"
#: The "Start from" entry the window turns into a file of the picture on screen.
CURRENT_PICTURE = "current-picture"


class _Knob:
    """A widget plus how to read its value (to report an edit) and show one (quietly)."""

    def __init__(self, widget: QWidget, get: Callable[[], Any], put: Callable[[Any], None]) -> None:
        self.widget = widget
        self.get = get
        self.put = put
        self.label: QLabel | None = None


class SettingsPanel(QWidget):
    """Every scalar knob of a run, in the groups of :data:`GROUPS` (layers, images and blend
    weights have their own panels)."""

    edited = Signal(str, object)  # (setting name, new value), for each edit a user makes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._devices: list[tuple[str, str]] = [("cpu", "CPU")]
        self._settings = RunSettings()
        self.knobs: dict[str, _Knob] = {}
        self._quiet = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QGroupBox] = {}
        for title, names in GROUPS:
            box = QGroupBox(title)
            box.setObjectName(f"group_{title}")
            self.boxes[title] = box
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
        self.show_settings(self._settings)

    # ----------------------------------------------------------------- public API
    def show_settings(self, settings: RunSettings) -> None:
        """Show ``settings``' values (emits nothing) and enable what applies to them."""
        self._settings = settings
        self._quiet = True
        try:
            for name, knob in self.knobs.items():
                knob.put(getattr(settings, name))
        finally:
            self._quiet = False
        self._update_enabled()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """The devices found on this computer, as (settings value, label)."""
        self._devices = list(devices)
        self._fill_devices()
        self._quiet = True
        try:
            self.knobs["device"].put(self._settings.device)
        finally:
            self._quiet = False

    def roll_seed(self) -> None:
        self.edited.emit("seed", random.randrange(0, 2**31 - 1))

    # ----------------------------------------------------------------- building
    def _report(self, name: str) -> None:
        if not self._quiet:
            self.edited.emit(name, self.knobs[name].get())

    def _make(self, name: str) -> _Knob:
        special = {
            "lr": self._make_lr,
            "init": self._make_init,
            "seed": self._make_seed,
            "device": self._make_device,
            "weights": self._make_weights,
            "max_memory": self._make_memory,
        }
        if name in special:
            return special[name]()
        meta = field_meta(name)
        value = getattr(RunSettings(), name)
        if meta["choices"]:
            combo = QComboBox()
            labels = CHOICE_LABELS.get(name, {})
            for choice in meta["choices"]:
                combo.addItem(labels.get(choice, choice), choice)
            combo.currentIndexChanged.connect(lambda _i: self._report(name))
            return _Knob(combo, combo.currentData, lambda v: _select(combo, v))
        if isinstance(value, bool):
            box = QCheckBox()
            box.toggled.connect(lambda _b: self._report(name))
            return _Knob(box, box.isChecked, box.setChecked)
        if isinstance(value, int):
            return self._make_int(name, meta)
        if meta["log"]:
            spin: QDoubleSpinBox = SciSpinBox(meta["min"], meta["max"])
        else:
            spin = QDoubleSpinBox()
            spin.setRange(meta["min"], meta["max"])
            spin.setDecimals(2)
            spin.setSingleStep(0.1)
            spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda _v: self._report(name))
        return _Knob(spin, spin.value, spin.setValue)

    def _make_int(self, name: str, meta: dict[str, Any]) -> _Knob:
        spin = QSpinBox()
        spin.setRange(int(meta["min"]), int(meta["max"]))
        spin.setKeyboardTracking(False)
        special = {"save_every": "never", "threads": "all cores", "tile": "automatic"}
        if name in special:
            spin.setSpecialValueText(special[name])
        if name == "size":
            spin.setSingleStep(64)
            spin.setSuffix(" px")
        spin.valueChanged.connect(lambda _v: self._report(name))
        return _Knob(spin, spin.value, spin.setValue)

    def _make_lr(self) -> _Knob:
        meta = field_meta("lr")
        # 0 stands for "the optimizer's default" (None), shown as text.
        spin = SciSpinBox(0.0, meta["max"])
        spin.setSpecialValueText("auto")
        spin.valueChanged.connect(lambda _v: self._report("lr"))

        def get() -> float | None:
            value = spin.value()
            return None if value <= 0 else max(value, meta["min"])

        return _Knob(spin, get, lambda v: spin.setValue(0.0 if v is None else v))

    def _make_memory(self) -> _Knob:
        """The memory ceiling as text (3GB, 800MB); empty: the free memory less a margin."""
        edit = QLineEdit()
        edit.setPlaceholderText("free memory less a margin")
        edit.setClearButtonEnabled(True)
        edit.editingFinished.connect(lambda: self._report("max_memory"))
        return _Knob(edit, lambda: edit.text().strip(), edit.setText)

    def _make_init(self) -> _Knob:
        choices = [
            ("White noise", "noise"),
            ("The content photo", "content"),
            ("The first style image", "style"),
            ("The current picture", CURRENT_PICTURE),
        ]
        combo = FileChoiceCombo(
            choices, "An image file…", "Start from which picture?", IMAGE_FILTER
        )
        combo.chosen.connect(lambda _v: self._report("init"))
        return _Knob(combo, combo.value, combo.set_value)

    def _make_weights(self) -> _Knob:
        choices = [
            ("ImageNet VGG19 (torchvision)", "torchvision"),
            ("Caffe VGG19 (neural-style's, often more vivid colours)", "caffe"),
            ("Random, untrained (for trying the app)", "random"),
        ]
        combo = FileChoiceCombo(choices, "A weights file…", "Choose VGG19 weights", WEIGHTS_FILTER)
        combo.chosen.connect(lambda _v: self._report("weights"))
        return _Knob(combo, combo.value, combo.set_value)

    def _make_seed(self) -> _Knob:
        meta = field_meta("seed")
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        spin = QSpinBox()
        spin.setRange(int(meta["min"]), int(meta["max"]))
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda _v: self._report("seed"))
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
        combo.currentIndexChanged.connect(lambda _i: self._report("device"))

        def put(value: str) -> None:
            if combo.findData(value) < 0:
                combo.addItem(f"{value} (not found here)", value)
            _select(combo, value)

        return _Knob(combo, lambda: combo.currentData() or "auto", put)

    def _fill_devices(self) -> None:
        combo = self._device_combo
        blocked = combo.blockSignals(True)
        try:
            combo.clear()
            best = self._devices[0][1] if self._devices else "CPU"
            for value, label in [("auto", f"Auto ({best})")] + self._devices:
                combo.addItem(label, value)
        finally:
            combo.blockSignals(blocked)

    def _update_enabled(self) -> None:
        s = self._settings
        extra = {
            "lbfgs_history": s.optimizer == "lbfgs",
            "lbfgs_line_search": s.optimizer == "lbfgs",
            "coarse_steps": s.scales > 1,
        }
        for name, knob in self.knobs.items():
            on = applies(name, s.mode) and extra.get(name, True)
            knob.widget.setEnabled(on)
            if knob.label is not None:
                knob.label.setEnabled(on)
            help_text = field_meta(name)["help"]
            if not applies(name, s.mode):
                help_text += "\n(Not used in this mode.)"
            elif not on:
                help_text += "\n(Not used with these settings.)"
            knob.widget.setToolTip(help_text)


def _select(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
