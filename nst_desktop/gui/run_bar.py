"""The run controls under the picture: Run, Pause, Stop, Continue, a progress bar (only during a
run), Export; under them the progress line (how the run goes, then how it ended) and the
estimate line, each shown only when it has something to say. Enabled and worded from the
window model's run state, progress and picture."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.gui.model import EstimateLine, RunState, WindowModel
from nst_desktop.gui.progress import ProgressLine

CONTINUE_TIP = (
    "Add more iterations to the picture on screen, with the settings it was made with; the "
    "step count goes on. L-BFGS starts with an empty history (what it learnt of the curvature "
    "is not kept), so the first few steps are close to plain gradient steps. To change "
    'settings first, choose "Start from: the current picture" and press Run.'
)


class RunBar(QWidget):
    def __init__(self, model: WindowModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setToolTip("Start (Ctrl+Return).")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Hold the run; Resume goes on from the same step (Ctrl+P).")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run and keep the current picture (Esc).")
        self.continue_button = QPushButton("Continue")
        self.continue_button.setObjectName("continueButton")
        self.continue_button.setToolTip(CONTINUE_TIP)
        self.more_steps = QSpinBox()
        self.more_steps.setObjectName("moreSteps")
        self.more_steps.setRange(1, 100_000)
        self.more_steps.setValue(model.settings.steps)
        self.more_steps.setSuffix(" more")
        self.more_steps.setToolTip("How many iterations Continue adds.")
        self.more_steps.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.more_steps.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Save the picture as PNG, JPEG, WebP or TIFF; it remembers its settings (Ctrl+S)."
        )
        self.progress_bar = QProgressBar()  # shown only during a run: idle, it reads as a field
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progressLabel")
        self.progress_label.setWordWrap(True)  # a line of its own: a narrow window wraps it
        self.estimate_label = QLabel("")
        self.estimate_label.setObjectName("estimateLabel")
        self.estimate_label.setWordWrap(True)  # the remedy at its end stays in view
        self.estimate_label.setToolTip(
            "Estimated before the run from the size, the layers and a short speed test of this "
            "device; during a run the progress line shows the real rate and time left."
        )
        controls = QHBoxLayout()
        for b in (self.run_button, self.pause_button, self.stop_button, self.continue_button):
            # a narrow window may shrink the buttons to their words, not cut the box beside them
            words = max(b.fontMetrics().horizontalAdvance(t) for t in (b.text(), "Resume"))
            b.setMinimumWidth(words + 20)
        for b in (self.run_button, self.pause_button, self.stop_button):
            controls.addWidget(b)
        controls.addWidget(self.continue_button)
        controls.addWidget(self.more_steps)
        controls.addWidget(self.progress_bar, 1)
        controls.addStretch(0)  # takes the room only while the bar is hidden
        controls.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.estimate_label)

        model.runStateChanged.connect(self.show_state)
        model.progressChanged.connect(self.show_progress)
        model.estimateChanged.connect(self.show_estimate)
        model.exportableChanged.connect(self.export_button.setEnabled)
        model.pictureChanged.connect(self._show_continuable)
        model.pictureRelabelled.connect(self._show_continuable)
        model.settingsChanged.connect(lambda s: self.more_steps.setValue(s.steps))
        self.show_state(model.run_state)
        self.show_progress(model.progress)
        self.show_estimate(model.estimate)
        self.export_button.setEnabled(model.exportable)

    def show_state(self, state: RunState) -> None:
        busy = state != RunState.IDLE
        controllable = state in (RunState.RUNNING, RunState.PAUSED)
        self.run_button.setEnabled(not busy)
        self.pause_button.setEnabled(controllable)
        self.pause_button.setText("Resume" if state == RunState.PAUSED else "Pause")
        self.stop_button.setEnabled(controllable)
        self.progress_bar.setVisible(busy)  # idle, the label alone says how the last run ended
        self._show_continuable()

    def _show_continuable(self, *_args: object) -> None:
        can = self.model.run_state == RunState.IDLE and self.model.picture.continuable
        self.continue_button.setEnabled(can)
        self.more_steps.setEnabled(can)

    def show_progress(self, line: ProgressLine) -> None:
        self.progress_bar.setRange(0, line.maximum)
        self.progress_bar.setValue(line.value)
        self.progress_label.setText(line.text)
        self.progress_label.setVisible(bool(line.text))

    def show_estimate(self, line: EstimateLine) -> None:
        self.estimate_label.setText(line.text)
        self.estimate_label.setVisible(bool(line.text))  # no empty line under the buttons
        self.estimate_label.setStyleSheet("color: #a05a00;" if line.warn else "")
