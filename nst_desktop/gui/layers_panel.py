"""Which VGG19 layers the result must match: a style and a content column, grouped by block.

The panel shows the layers it is given (:meth:`show_layers`) and reports each edit as
``edited(content_layers, style_layers)``; layers outside its table (conv layers a preset or a
picture asked for) travel along unchanged.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.layers import BLOCKS, RELU_LAYERS, layer_channels
from nst_desktop.core.settings import Mode, RunSettings
from nst_desktop.gui.spinboxes import SciSpinBox

_BLOCK_NOTES = {
    1: "fine texture, colour",
    2: "small patterns",
    3: "brush marks",
    4: "shapes, strokes",
    5: "large forms",
}
STYLE_TIP = (
    "Match this layer's texture statistics (its Gram matrix) with the style images. The weight "
    "says how much this layer counts against the others."
)
CONTENT_TIP = (
    "Keep this layer's activations equal to the content photo's. Shallow layers keep exact "
    "pixels; deep layers keep only the arrangement of objects."
)


class _Row:
    def __init__(self, name: str, parent: QWidget) -> None:
        self.name = name
        self.style = QCheckBox(name, parent)
        self.style.setObjectName(f"style_{name}")
        self.style.setToolTip(STYLE_TIP)
        self.style_weight = SciSpinBox(0.0, 1e6, parent)
        self.style_weight.setObjectName(f"styleWeight_{name}")
        self.style_weight.setValue(1.0)
        self.style_weight.setToolTip("Weight of this style layer.")
        self.content = QCheckBox(parent)
        self.content.setObjectName(f"content_{name}")
        self.content.setToolTip(CONTENT_TIP)
        self.content_weight = SciSpinBox(0.0, 1e6, parent)
        self.content_weight.setObjectName(f"contentWeight_{name}")
        self.content_weight.setValue(1.0)
        self.content_weight.setToolTip("Weight of this content layer.")


class LayersPanel(QWidget):
    """The 16 relu layers of VGG19 with a checkbox and a weight for style and for content."""

    edited = Signal(dict, dict)  # (content layers, style layers) after each edit a user makes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mode = Mode.TRANSFER
        self._quiet = False
        self._extra_content: dict[str, float] = {}
        self._extra_style: dict[str, float] = {}
        self.rows: dict[str, _Row] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        header = ("Style layer", "weight", "Content", "weight")
        for col, text in enumerate(header):
            label = QLabel(f"<b>{text}</b>")
            grid.addWidget(label, 0, col)
        r = 1
        for block, (channels, n_conv) in enumerate(BLOCKS, start=1):
            title = QLabel(f"Block {block} · {channels} channels · {_BLOCK_NOTES[block]}")
            title.setStyleSheet("color: palette(dark); padding-top: 4px;")
            grid.addWidget(title, r, 0, 1, 4)
            r += 1
            for i in range(1, n_conv + 1):
                name = f"relu{block}_{i}"
                row = _Row(name, self)
                row.style.setToolTip(f"{STYLE_TIP}\n{name}: {layer_channels(name)} channels.")
                grid.addWidget(row.style, r, 0)
                grid.addWidget(row.style_weight, r, 1)
                grid.addWidget(row.content, r, 2, Qt.AlignmentFlag.AlignHCenter)
                grid.addWidget(row.content_weight, r, 3)
                row.style.toggled.connect(lambda _on: self._emit())
                row.style_weight.valueChanged.connect(lambda _v: self._emit())
                row.content.toggled.connect(lambda on, n=name: self._content_toggled(n, on))
                row.content_weight.valueChanged.connect(lambda _v: self._emit())
                self.rows[name] = row
                r += 1
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(dark);")
        self.defaults_button = QPushButton("Paper's layers")
        self.defaults_button.setToolTip(
            "Style on relu1_1 … relu5_1 with equal weights and content on relu4_2, as in Gatys "
            "et al."
        )
        self.defaults_button.clicked.connect(self.reset_defaults)
        buttons = QHBoxLayout()
        buttons.addWidget(self.defaults_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        layout.addStretch(1)
        d = RunSettings()
        self.show_layers(d.content_layers, d.style_layers)

    # ----------------------------------------------------------------- public API
    def style_layers(self) -> dict[str, float]:
        return {
            n: float(r.style_weight.value()) for n, r in self.rows.items() if r.style.isChecked()
        }

    def content_layers(self) -> dict[str, float]:
        return {
            n: float(r.content_weight.value())
            for n, r in self.rows.items()
            if r.content.isChecked()
        }

    def show_layers(self, content: dict[str, float], style: dict[str, float]) -> None:
        """Show these layers (emits nothing; names outside the relu table are kept aside)."""
        self._quiet = True
        try:
            for name, row in self.rows.items():
                row.style.setChecked(name in style)
                row.style_weight.setValue(style.get(name, 1.0))
                row.content.setChecked(name in content)
                row.content_weight.setValue(content.get(name, 1.0))
        finally:
            self._quiet = False
        self._extra_content = {k: v for k, v in content.items() if k not in RELU_LAYERS}
        self._extra_style = {k: v for k, v in style.items() if k not in RELU_LAYERS}
        self._update_enabled()

    def reset_defaults(self) -> None:
        d = RunSettings()
        self.show_layers(d.content_layers, d.style_layers)
        self._emit()

    def set_mode(self, mode: str) -> None:
        self._mode = Mode(mode)
        self._update_enabled()

    # ----------------------------------------------------------------- internals
    def _content_toggled(self, name: str, on: bool) -> None:
        if on and self._mode == Mode.CONTENT_REP and not self._quiet:
            self._quiet = True
            for other, row in self.rows.items():
                if other != name:
                    row.content.setChecked(False)
            self._quiet = False
        self._emit()

    def _emit(self) -> None:
        if not self._quiet:
            self._update_enabled()
            content = {**self.content_layers(), **self._extra_content}
            style = {**self.style_layers(), **self._extra_style}
            self.edited.emit(content, style)

    def _update_enabled(self) -> None:
        style_on = self._mode in (Mode.TRANSFER, Mode.STYLE_REP)
        content_on = self._mode in (Mode.TRANSFER, Mode.CONTENT_REP)
        for row in self.rows.values():
            row.style.setEnabled(style_on)
            row.style_weight.setEnabled(style_on and row.style.isChecked())
            row.content.setEnabled(content_on)
            row.content_weight.setEnabled(
                content_on and row.content.isChecked() and self._mode != Mode.CONTENT_REP
            )
        notes = {
            Mode.TRANSFER: "Tick the layers whose style to borrow and the layer(s) whose "
            "content to keep.",
            Mode.CONTENT_REP: "Content representation: reconstruct the content photo from one "
            "layer (tick one in the Content column).",
            Mode.STYLE_REP: "Style representation: synthesize the style image's texture from the "
            "ticked style layers.",
            Mode.SWEEP: "The layer sweep always uses relu1_1 … relu5_1, one by one for content and "
            "cumulatively for style.",
        }
        self.note.setText(notes[self._mode])
