"""The main window: images and knobs on the left, the evolving picture and its loss on the right.

The window holds no tensors. It builds a :class:`RunJob`, hands it to a :class:`RunThread`, and
draws what comes back. Whatever happens to a run (done, stopped, an error, the window closed),
the last image stays on screen, can be exported, and is also saved to the autosave folder.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop import __version__
from nst_desktop.core.failures import DEVICE_LOST, OUT_OF_MEMORY
from nst_desktop.core.images import SAVE_FORMATS, ImageError, read_metadata, save_image
from nst_desktop.core.paths import data_dir, resources_dir
from nst_desktop.core.settings import MODE_LABELS, MODES, RunSettings, SettingsError
from nst_desktop.core.stages import Stage, plan, remaining_seconds
from nst_desktop.core.timelapse import FrameRecorder, save_timelapse
from nst_desktop.gui.image_picker import ContentPicker, RecentFiles, StylePicker
from nst_desktop.gui.layers_panel import LayersPanel
from nst_desktop.gui.loss_plot import LossPlot
from nst_desktop.gui.presets_panel import PresetPanel
from nst_desktop.gui.preview import PreviewView
from nst_desktop.gui.settings_panel import SettingsPanel
from nst_desktop.gui.sweep_view import SweepView
from nst_desktop.gui.worker import (
    EngineLoader,
    Outcome,
    PlannerProbe,
    Progress,
    RunJob,
    RunThread,
    WeightsCache,
)
from nst_desktop.logs import log_dir, log_file

log = logging.getLogger(__name__)

EXPORT_FILTERS = {
    "PNG image (*.png)": ".png",
    "JPEG image (*.jpg *.jpeg)": ".jpg",
    "WebP image (*.webp)": ".webp",
    "TIFF image (*.tif *.tiff)": ".tif",
}
TIMELAPSE_FILTERS = {"Animated GIF (*.gif)": ".gif", "Animated WebP (*.webp)": ".webp"}
MACHINE_KNOBS = ("device", "threads", "weights")
AUTOSAVE_KEEP = 30
#: How long closing the window waits for the run to stop (an evaluation of a huge image on a
#: slow CPU can take this long); the thread is told to stop first.
CLOSE_WAIT_MS = 60_000
SAMPLE_CONTENT = "content_landscape.png"
SAMPLE_STYLE = "style_swirls.png"

IDLE, RUNNING, PAUSED = "idle", "running", "paused"


def autosave_dir() -> Path:
    return data_dir() / "autosave"


def snapshots_dir() -> Path:
    return data_dir() / "snapshots"


class MessageBar(QFrame):
    """A dismissable one-line message above the picture (errors stay until read)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        self._action = None
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def set_action(self, text: str, action: Any) -> None:
        """A button beside the message (e.g. "Retry at 768 px"); it hides the bar when pressed."""
        self._action = action
        self.action_button.setText(text)
        self.action_button.show()

    def _run_action(self) -> None:
        action, self._action = self._action, None
        self.hide()
        if action is not None:
            action()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.action_button.hide()
        self._action = None
        colors = {"error": ("#5c1a1a", "#ffd9d9"), "warning": ("#4d3a00", "#fff0c2")}
        fg, bg = colors.get(kind, ("#1a3a5c", "#d9ebff"))
        self.setStyleSheet(
            f"QFrame#messageBar {{background: {bg}; border-radius: 4px;}} QLabel {{color: {fg};}}"
        )
        self.label.setText(text)
        self.kind = kind
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    def __init__(self, qsettings: QSettings | None = None, *, load_engine: bool = True) -> None:
        super().__init__()
        self.qs = qsettings if qsettings is not None else QSettings()
        self.setWindowTitle("NST Desktop")
        icon = resources_dir() / "icons" / "nst-desktop.png"
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))
        self.setMinimumSize(QSize(980, 640))
        self.state = IDLE
        self.thread: RunThread | None = None
        self.engine_ready = False
        self.weights_cache = WeightsCache()
        self.result: np.ndarray | None = None  # the latest image of the latest run
        self.result_metadata: dict[str, Any] = {}
        self.recorder: FrameRecorder | None = None
        self.last_outcome: Outcome | None = None
        self._settings = RunSettings()
        self._pending_run = False
        self._run_started = 0.0
        self._stages: list[Stage] = []
        self._first_progress: tuple[int, float] | None = None
        self._last_progress: Progress | None = None
        self._build()
        self._build_menus()
        self._restore()
        self._set_state(IDLE)
        self.calibrations: dict[str, Any] = {}
        self.probe = PlannerProbe()
        self.probe.done.connect(self._calibrated)
        self.loader = EngineLoader()
        self.loader.ready.connect(self._engine_ready)
        self.loader.failed.connect(self._engine_failed)
        if load_engine:
            self.status("Loading the engine…")
            self.loader.start()

    # ================================================================== layout
    def _build(self) -> None:
        recent = RecentFiles(self.qs, "recent/images")
        self.content_picker = ContentPicker(recent, self.qs)
        self.style_picker = StylePicker(recent, self.qs)
        for picker in (self.content_picker, self.style_picker):
            picker.error.connect(lambda text: self.show_message(text))
            picker.settingsDropped.connect(self._offer_settings_from)
        self.content_picker.changed.connect(self._content_changed)
        self.style_picker.changed.connect(self._inputs_changed)

        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("modeCombo")
        for mode in MODES:
            self.mode_combo.addItem(MODE_LABELS[mode], mode)
        self.mode_combo.setToolTip(
            "Style transfer paints the photo in the style of the artworks. The two "
            "representations show what a VGG19 layer keeps of an image, by rebuilding it from "
            "noise; the layer sweep does that for every block."
        )
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._mode_changed())

        self.settings_panel = SettingsPanel()
        self.settings_panel.changed.connect(self._knobs_changed)
        self.layers_panel = LayersPanel()
        self.layers_panel.changed.connect(self._knobs_changed)
        self.preset_panel = PresetPanel(self.current_settings)
        self.preset_panel.presetApplied.connect(self._preset_applied)
        self.preset_panel.status.connect(self.status)

        images = QGroupBox("Images")
        content_box = QVBoxLayout()
        content_box.addWidget(QLabel("Content (the photo)"))
        content_box.addWidget(self.content_picker)
        style_box = QVBoxLayout()
        self.style_label = QLabel("Style (artworks, with blend weights)")
        style_box.addWidget(self.style_label)
        style_box.addWidget(self.style_picker, 1)
        row = QHBoxLayout(images)
        row.addLayout(content_box, 2)
        row.addLayout(style_box, 3)

        self.tabs = QTabWidget()
        self.tabs.addTab(_scrolled(self.settings_panel), "Settings")
        self.tabs.addTab(_scrolled(self.layers_panel), "Layers")
        self.tabs.addTab(self.preset_panel, "Presets")

        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("<b>Make</b>"))
        mode_row.addWidget(self.mode_combo, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addLayout(mode_row)
        left_layout.addWidget(images)
        left_layout.addWidget(self.tabs, 1)
        left.setMinimumWidth(400)

        # ---- right: the picture, the loss, the run controls
        self.preview = PreviewView()
        self.preview.setObjectName("preview")
        self.sweep_view = SweepView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.preview)
        self.stack.addWidget(self.sweep_view)
        self.message_bar = MessageBar()

        self.fit_button = QToolButton(text="Fit")
        self.fit_button.setToolTip("Show the whole picture (Ctrl+0).")
        self.fit_button.clicked.connect(self.preview.fit)
        self.actual_button = QToolButton(text="100%")
        self.actual_button.setToolTip("One picture pixel per screen pixel (Ctrl+1).")
        self.actual_button.clicked.connect(self.preview.actual_size)
        self.compare_button = QToolButton(text="Before / after")
        self.compare_button.setCheckable(True)
        self.compare_button.setToolTip(
            "Compare with the content photo: drag the line across the picture (Ctrl+B)."
        )
        self.compare_button.toggled.connect(self.preview.set_compare)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(60)
        self.preview.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        view_row = QHBoxLayout()
        for w in (self.fit_button, self.actual_button, self.compare_button):
            view_row.addWidget(w)
        view_row.addStretch(1)
        view_row.addWidget(self.zoom_label)

        self.loss_plot = LossPlot()
        self.loss_plot.setMinimumHeight(130)
        self.loss_plot.setMaximumHeight(190)

        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setToolTip("Start (Ctrl+Return).")
        self.run_button.clicked.connect(self.start_run)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Hold the run; Resume goes on from the same step (Ctrl+P).")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run and keep the current picture (Esc).")
        self.stop_button.clicked.connect(self.stop_run)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Save the picture as PNG, JPEG, WebP or TIFF; it remembers its settings (Ctrl+S)."
        )
        self.export_button.clicked.connect(lambda: self.export())
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progressLabel")
        self.progress_label.setMinimumWidth(260)
        self.estimate_label = QLabel("")
        self.estimate_label.setObjectName("estimateLabel")
        self.estimate_label.setToolTip(
            "Estimated before the run from the size, the layers and a short speed test of this "
            "device; the progress bar shows the real rate once it runs."
        )
        controls = QHBoxLayout()
        for b in (self.run_button, self.pause_button, self.stop_button):
            controls.addWidget(b)
        controls.addWidget(self.progress_bar, 1)
        controls.addWidget(self.progress_label)
        controls.addWidget(self.export_button)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 6, 6, 6)
        right_layout.addWidget(self.message_bar)
        right_layout.addLayout(view_row)
        right_layout.addWidget(self.stack, 1)
        right_layout.addWidget(self.loss_plot)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.estimate_label)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([430, 800])
        self.setCentralWidget(self.splitter)

        self.status_label = QLabel()
        self.device_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.device_label)

    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None, tip=""):
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        keys = QKeySequence.StandardKey
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_content_action = action(
            file_menu,
            "Open content image…",
            self.content_picker.browse,
            keys.Open,
        )
        self.add_style_action = action(
            file_menu, "Add style image…", self.style_picker.browse, "Ctrl+Shift+O"
        )
        action(file_menu, "Load settings from image…", self.load_settings_dialog, "Ctrl+L")
        file_menu.addSeparator()
        self.export_action = action(file_menu, "Export picture…", lambda: self.export(), keys.Save)
        self.export_timelapse_action = action(
            file_menu, "Export time-lapse…", lambda: self.export_timelapse(), "Ctrl+Shift+S"
        )
        action(file_menu, "Open autosave folder", lambda: _open_folder(autosave_dir()))
        file_menu.addSeparator()
        action(file_menu, "Quit", self.close, keys.Quit)

        run_menu = bar.addMenu("&Run")
        self.run_action = action(run_menu, "Run", self.start_run, "Ctrl+Return")
        self.pause_action = action(run_menu, "Pause / Resume", self.toggle_pause, "Ctrl+P")
        self.stop_action = action(run_menu, "Stop", self.stop_run, "Esc")
        run_menu.addSeparator()
        action(run_menu, "New random seed", self.settings_panel.roll_seed, "Ctrl+R")

        view_menu = bar.addMenu("&View")
        action(view_menu, "Fit the picture", self.preview.fit, "Ctrl+0")
        action(view_menu, "Actual pixels (100%)", self.preview.actual_size, "Ctrl+1")
        action(
            view_menu,
            "Zoom in",
            lambda: self.preview.zoom_by(1.25),
            keys.ZoomIn,
        )
        action(
            view_menu,
            "Zoom out",
            lambda: self.preview.zoom_by(0.8),
            keys.ZoomOut,
        )
        action(view_menu, "Before / after", self.compare_button.toggle, "Ctrl+B")

        help_menu = bar.addMenu("&Help")
        action(help_menu, "Open log folder", lambda: _open_folder(log_dir()))
        action(help_menu, "About NST Desktop", self.about)

    # ================================================================== settings
    def current_settings(self) -> RunSettings:
        """What a run would use now, from every panel (not validated)."""
        s = self.settings_panel.apply_to(self._settings)
        content, style = self.layers_panel.content_layers(), self.layers_panel.style_layers()
        extra_content, extra_style = self.layers_panel.extra_layers()
        weights = [w for _, w in self.style_picker.entries()]
        blend = [] if all(w == 1.0 for w in weights) else weights
        return dataclasses.replace(
            s,
            mode=self.mode_combo.currentData(),
            content_layers={**content, **extra_content},
            style_layers={**style, **extra_style},
            style_blend=blend,
        )

    def set_settings(self, settings: RunSettings) -> None:
        """Show ``settings`` in every panel."""
        self._settings = settings
        _quiet(self.mode_combo, lambda: _select(self.mode_combo, settings.mode))
        self.settings_panel.set_settings(settings)
        self.layers_panel.set_layers(settings.content_layers, settings.style_layers)
        entries = self.style_picker.entries()
        if settings.style_blend and len(settings.style_blend) == len(entries):
            self.style_picker.set_entries(
                [(p, w) for (p, _), w in zip(entries, settings.style_blend, strict=True)]
            )
        self._mode_changed()

    def _knobs_changed(self) -> None:
        self._settings = self.current_settings()
        self.update_estimate()

    def update_estimate(self) -> None:
        """Show the planner's time and memory estimate for the current settings."""
        if not self.engine_ready:
            return
        from nst_desktop.core import planner
        from nst_desktop.core.device import DeviceError, resolve_device

        s = self._settings
        try:
            s.validate()
            device = str(resolve_device(s.device))
        except (SettingsError, DeviceError):
            self.estimate_label.setText("")
            return
        if device not in self.calibrations:
            self.calibrations[device] = None
            self.probe.start(device)
        est = planner.estimate(s, device, self.calibrations.get(device), self._aspect())
        text = f"Estimate on {device}: peak memory about {_size(est.peak_bytes)}"
        if math.isfinite(est.seconds_per_iter):
            text = (
                f"Estimate on {device}: {est.seconds_per_iter:.2g} s per iteration, "
                f"{_clock(est.total_seconds)} in all, peak memory about {_size(est.peak_bytes)}"
            )
        if not est.fits:
            text += ". " + est.note
            self.estimate_label.setStyleSheet("color: #a05a00;")
        else:
            self.estimate_label.setStyleSheet("")
        self.estimate_label.setText(text)
        self.estimate = est

    def _calibrated(self, device: str, calibration: Any) -> None:
        from nst_desktop.core.device import resolve_device

        try:
            key = str(resolve_device(device))
        except Exception:  # noqa: BLE001 - the device vanished meanwhile
            return
        self.calibrations[key] = calibration
        self.update_estimate()

    def _mode_changed(self) -> None:
        mode = self.mode_combo.currentData()
        self.settings_panel.set_mode(mode)
        self.layers_panel.set_mode(mode)
        self.content_picker.setEnabled(mode != "style-rep")
        self.style_picker.setEnabled(mode != "content-rep")
        self.stack.setCurrentWidget(self.sweep_view if mode == "sweep" else self.preview)
        self.compare_button.setEnabled(mode == "transfer")
        if mode != "transfer" and self.compare_button.isChecked():
            self.compare_button.setChecked(False)
        if mode in ("content-rep", "style-rep", "sweep"):
            s = self.settings_panel.apply_to(self._settings)
            if s.init in ("content", "style"):
                self.settings_panel.set_settings(dataclasses.replace(s, init="noise"))
                self.status(f"{MODE_LABELS[mode]} starts from white noise.")
        self._settings = self.current_settings()
        self.update_estimate()

    def _preset_applied(self, settings: RunSettings, changed: list[str]) -> None:
        self.set_settings(settings)
        self.status(
            f"Preset applied: {len(changed)} setting(s) changed."
            if changed
            else "Preset applied: nothing changed."
        )

    def _content_changed(self, _path: str) -> None:
        arr = self.content_picker.image_array()
        self.preview.set_before(arr)
        if self.state == IDLE and self.result is None and arr is not None:
            self.preview.set_image(arr)
            self.preview.fit()
        self._inputs_changed()

    def _aspect(self) -> float:
        """Short over long side of the picture a run will optimize (the content's shape; for a
        texture, unknown here, so the square worst case)."""
        arr = self.content_picker.image_array()
        if arr is None or self._settings.mode == "style-rep":
            return 1.0
        h, w = arr.shape[:2]
        return min(h, w) / max(h, w)

    def _inputs_changed(self) -> None:
        self._settings = self.current_settings()
        self.update_estimate()

    # ---- settings embedded in exported pictures
    def _offer_settings_from(self, path: str) -> None:
        answer = QMessageBox.question(
            self,
            "Use its settings?",
            f"{Path(path).name} was made with NST Desktop. Use the settings it was made with?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.load_settings_from(path)

    def load_settings_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Load settings from a picture made with NST Desktop",
            "",
            "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff)",
        )
        if path:
            self.load_settings_from(path)

    def load_settings_from(self, path: str) -> bool:
        """Apply the settings embedded in an exported picture (validated; machine knobs kept)."""
        meta = read_metadata(path)
        data = meta.get("settings") if meta else None
        if not isinstance(data, dict):
            self.show_message(f"{Path(path).name} carries no NST Desktop settings.")
            return False
        current = self.current_settings()
        data = {k: v for k, v in data.items() if k not in MACHINE_KNOBS}
        try:
            settings, warnings = RunSettings.from_dict(data, base=current, strict=False)
        except SettingsError as exc:
            self.show_message(f"The settings in {Path(path).name} cannot be used: {exc}")
            return False
        self.set_settings(settings)
        if warnings:
            self.show_message(
                f"Loaded the settings of {Path(path).name}, except: " + "; ".join(warnings[:5]),
                "warning",
            )
        else:
            self.status(f"Loaded the settings of {Path(path).name}.")
        return True

    # ================================================================== running
    def start_run(self) -> bool:
        """Start a run with the current settings; False (and a message) when it cannot."""
        if self.state != IDLE:
            self.status("A run is already going; stop it first.")
            return False
        settings = self.current_settings()
        try:
            settings.validate()
            if settings.mode in ("transfer", "style-rep", "sweep"):
                settings.style_blend_for(len(self.style_picker.paths()) or 1)
        except SettingsError as exc:
            self.show_message(str(exc))
            return False
        mode = settings.mode
        if mode in ("transfer", "content-rep", "sweep") and not self.content_picker.path():
            self.show_message("Choose a content image first (click the Content box or drop one).")
            return False
        if mode in ("transfer", "style-rep", "sweep") and not self.style_picker.paths():
            self.show_message("Choose at least one style image first (Add style…).")
            return False
        if not self.engine_ready:
            self._pending_run = True
            self.status("The engine is still loading; the run starts as soon as it is ready.")
            return True
        chosen = self._ensure_weights(settings.weights)
        if chosen is None:
            self.status("No weights chosen, so nothing was started.")
            return False
        if chosen != settings.weights:
            settings = dataclasses.replace(settings, weights=chosen)
            self.settings_panel.knobs["weights"].put(chosen)
            self._settings = settings
        self.message_bar.hide()
        job = RunJob(settings, self.content_picker.path(), self.style_picker.paths())
        self._begin(job)
        return True

    def _ensure_weights(self, source: str) -> str | None:
        """The weights to use: asks (download, file, untrained) when ImageNet's are missing."""
        if source != "torchvision":
            return source
        from nst_desktop.core.weights import torchvision_weights_available

        if torchvision_weights_available():
            return source
        from nst_desktop.gui.weights_dialog import WeightsDialog

        dialog = WeightsDialog(self)
        dialog.exec()
        return dialog.choice

    def _begin(self, job: RunJob) -> None:
        settings = job.settings
        self.thread = RunThread(job, self.weights_cache, self)
        if settings.save_every > 0 and settings.mode != "sweep":
            self.thread.snapshot_dir = snapshots_dir() / time.strftime("%Y%m%d-%H%M%S")
            self.status(f"Snapshots go to {self.thread.snapshot_dir}.")
        self.thread.status.connect(self.status)
        self.thread.progress.connect(self._on_progress)
        self.thread.preview.connect(self._on_preview)
        self.thread.stageFinished.connect(self._on_stage_finished)
        self.thread.outcome.connect(self._on_outcome)
        self.thread.finished.connect(self._thread_finished)
        self.loss_plot.reset()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText("starting…")
        self.recorder = FrameRecorder(every=1, max_frames=300) if settings.mode != "sweep" else None
        self.result_metadata = {}
        self.last_outcome = None
        self._last_progress = None
        self._first_progress: tuple[int, float] | None = None  # the pace is measured from here
        self._stages = plan(settings)  # the ETA weighs each scale's iterations by its size
        if settings.mode == "sweep":  # one cell per stage, labelled as the engine labels them
            self.sweep_view.reset(
                [
                    (title, [s.label for s in self._stages if s.mode == mode])
                    for title, mode in (
                        ("Content reconstruction", "content-rep"),
                        ("Style reconstruction", "style-rep"),
                    )
                ]
            )
        self._run_started = time.monotonic()
        self._set_state(RUNNING)
        self.thread.start()
        log.info("run started: %s", json.dumps(settings.to_dict()))

    def toggle_pause(self) -> None:
        if self.thread is None or self.state == IDLE:
            return
        if self.state == RUNNING:
            self.thread.pause()
            self._set_state(PAUSED)
            self.status("Paused; press Resume to go on from the same step.")
        else:
            self.thread.resume()
            self._set_state(RUNNING)
            self.status("Running…")

    def stop_run(self) -> None:
        if self.thread is not None and self.state != IDLE:
            self.thread.stop()
            self.status("Stopping after this iteration…")
            self.pause_button.setEnabled(False)
            self.stop_button.setEnabled(False)

    def _on_progress(self, p: Progress) -> None:
        if self.thread is None or self.sender() is not self.thread:
            return
        previous = self._last_progress
        self._last_progress = p
        if previous is not None and p.step <= previous.step:
            return  # a stage's closing record repeats its last evaluation
        terms = {"content": p.content, "style": p.style, "tv": p.tv}
        terms = {k: v for k, v in terms.items() if math.isfinite(v) and v > 0}
        if math.isfinite(p.loss):
            self.loss_plot.add(p.step, p.loss, terms)
        self.progress_bar.setRange(0, max(1, p.total))
        self.progress_bar.setValue(p.step)
        rate = p.step / p.elapsed if p.elapsed > 0 else 0.0
        text = f"{p.step} / {p.total}"
        if rate > 0:
            if self._first_progress is None:  # after the weights and targets: not the pace
                self._first_progress = (p.step, p.elapsed)
            eta = remaining_seconds(self._stages, p.step, p.elapsed, since=self._first_progress)
            text += f" · {rate:.1f} it/s · {_clock(eta)} left"
        if p.stage_label:
            text = f"{p.stage_label} · {text}"
        self.progress_label.setText(text)
        if p.stage_done and p.stage_label.startswith("scale"):
            self.loss_plot.set_marker(p.step, p.stage_label.split(" (")[0])

    def _on_preview(self, image: np.ndarray, step: int, stage: int) -> None:
        if self.thread is None or self.sender() is not self.thread:
            return
        self.result = image
        if self.stack.currentWidget() is self.sweep_view:
            self.sweep_view.set_active(stage)
            self.sweep_view.set_cell(stage, image)
        else:
            first = not self.preview.has_image()
            self.preview.set_image(image)
            if first:
                self.preview.fit()
        if self.recorder is not None:
            self.recorder.add(step, image)

    def _on_stage_finished(self, stage: int, _label: str, image: Any) -> None:
        if image is not None and self.stack.currentWidget() is self.sweep_view:
            self.sweep_view.set_cell(stage, image)

    def _on_outcome(self, outcome: Outcome) -> None:
        self.last_outcome = outcome
        if outcome.image is not None:
            self.result = outcome.image
            self.result_metadata = outcome.metadata
            if self.stack.currentWidget() is not self.sweep_view:
                self.preview.set_image(outcome.image)
            if self.recorder is not None and outcome.steps:
                self.recorder.add(outcome.steps, outcome.image, force=True)
        took = _clock(time.monotonic() - self._run_started)
        if outcome.status == "done":
            self.progress_label.setText(f"{outcome.steps} iterations in {took}")
            self.status(f"Done: {outcome.steps} iterations in {took}. Export to save it.")
        elif outcome.status == "stopped":
            self.status(f"Stopped at iteration {outcome.steps}; the picture is kept — Export it.")
        elif outcome.unexpected:
            self.show_message(
                "Sorry, something went wrong inside NST Desktop and the run ended; the last "
                f"picture is kept. Details are in {log_file()}."
            )
        else:
            self.show_message(outcome.message)
            if outcome.failure == OUT_OF_MEMORY:
                self._offer_smaller_size()
            elif outcome.failure == DEVICE_LOST:
                self.message_bar.set_action("Run again on the CPU", self._rerun_on_cpu)
        if outcome.image is not None and outcome.steps > 0:
            self._autosave(outcome)

    def _offer_smaller_size(self) -> None:
        """After running out of memory: a button to retry at the largest size that fits."""
        from nst_desktop.core import planner
        from nst_desktop.core.device import resolve_device

        s = self._settings
        try:
            device = str(resolve_device(s.device))
        except Exception:  # noqa: BLE001 - no offer then; the message already says what to do
            return
        fitting = planner.largest_fitting_size(s, device, self._aspect())
        size = min(fitting, s.size * 3 // 4) // 16 * 16
        if size < 64:
            return

        def retry() -> None:
            self.settings_panel.knobs["size"].put(size)
            self._knobs_changed()
            self.start_run()

        self.message_bar.set_action(f"Retry at {size} px", retry)

    def _rerun_on_cpu(self) -> None:
        """After the GPU failed mid-run: the same run on the CPU, one click away."""
        self.settings_panel.knobs["device"].put("cpu")
        self._knobs_changed()
        self.start_run()

    def _thread_finished(self) -> None:
        thread = self.sender()
        if thread is not self.thread:
            return
        self.thread = None
        self._set_state(IDLE)
        if self.progress_bar.maximum() == 0:  # no evaluation ever reported: it never started
            self.progress_bar.setRange(0, 1)
            self.progress_label.setText("did not start")  # not a "starting…" left behind
        thread.deleteLater()

    def _set_state(self, state: str) -> None:
        self.state = state
        busy = state != IDLE
        self.run_button.setEnabled(not busy)
        self.run_action.setEnabled(not busy)
        self.pause_button.setEnabled(busy)
        self.pause_action.setEnabled(busy)
        self.pause_button.setText("Resume" if state == PAUSED else "Pause")
        self.stop_button.setEnabled(busy)
        self.stop_action.setEnabled(busy)
        for w in (self.mode_combo, self.settings_panel, self.layers_panel, self.preset_panel):
            w.setEnabled(not busy)
        self.content_picker.setEnabled(not busy and self.mode_combo.currentData() != "style-rep")
        self.style_picker.setEnabled(not busy and self.mode_combo.currentData() != "content-rep")

    def _engine_ready(self, devices: list[tuple[str, str]]) -> None:
        self.engine_ready = True
        self.settings_panel.set_devices(devices)
        self.device_label.setText(" · ".join(label for _, label in devices[:1]))
        self.status("Ready.")
        self.update_estimate()
        if self._pending_run:
            self._pending_run = False
            self.start_run()

    def _engine_failed(self, message: str) -> None:
        self._pending_run = False
        self.show_message(message)

    # ================================================================== saving
    def _picture(self) -> np.ndarray | None:
        """What Export saves: the sweep grid in sweep mode, else the latest image."""
        if self.stack.currentWidget() is self.sweep_view and self.sweep_view.done_count():
            note = (
                ""
                if "untrained" not in self.result_metadata.get("weights", "")
                else ("  (untrained random weights)")
            )
            return np.asarray(self.sweep_view.to_image("VGG19 layer sweep" + note).convert("RGB"))
        if self.result is not None:
            return self.result
        return None

    def _metadata(self) -> dict[str, Any]:
        meta = dict(self.result_metadata)
        if not meta:
            meta = {"version": __version__, "settings": self._settings.to_dict()}
        if self.state != IDLE:
            meta["status"] = "in progress"
            if self._last_progress is not None:
                meta["iterations"] = self._last_progress.step
        return meta

    def export(self, path: str | None = None) -> Path | None:
        """Save the picture (asking where, and before overwriting); None when nothing was saved."""
        picture = self._picture()
        if picture is None:
            self.show_message("There is nothing to export yet; press Run first.")
            return None
        if path is None:
            path = self._ask_save_path("Export picture", EXPORT_FILTERS, "export/folder")
            if path is None:
                return None
        target = Path(path)
        if target.suffix.lower() not in SAVE_FORMATS:
            self.show_message(
                f"Cannot save as “{target.suffix or target.name}”; end the name in .png, .jpg, "
                ".webp or .tif."
            )
            return None
        if target.exists() and not self._confirm_overwrite(target):
            return None
        try:
            save_image(picture, target, metadata=self._metadata())
        except ImageError as exc:
            self.show_message(f"{exc} The picture is still here; export it elsewhere.")
            return None
        self.qs.setValue("export/folder", str(target.parent))
        self.status(f"Saved {target}.")
        return target

    def export_timelapse(self, path: str | None = None) -> Path | None:
        if self.recorder is None or len(self.recorder.frames) < 2:
            self.show_message(
                "There is no time-lapse yet: it is recorded during a style transfer or "
                "representation run."
            )
            return None
        if path is None:
            path = self._ask_save_path("Export time-lapse", TIMELAPSE_FILTERS, "export/folder")
            if path is None:
                return None
        target = Path(path)
        if target.exists() and not self._confirm_overwrite(target):
            return None
        try:
            save_timelapse(target, self.recorder.frames, metadata=self._metadata())
        except ImageError as exc:
            self.show_message(f"{exc} The frames are still here; export them elsewhere.")
            return None
        self.status(f"Saved the time-lapse ({len(self.recorder.frames)} frames) to {target}.")
        return target

    def _ask_save_path(self, title: str, filters: dict[str, str], key: str) -> str | None:
        folder = _qs_str(self.qs, key) or str(Path.home())
        name = "nst-" + time.strftime("%Y%m%d-%H%M%S")
        chosen_filter = next(iter(filters))
        path, selected = QFileDialog.getSaveFileName(
            self,
            title,
            str(Path(folder) / (name + filters[chosen_filter])),
            ";;".join(filters),
            chosen_filter,
            QFileDialog.Option.DontConfirmOverwrite,  # asked below, once, in our words
        )
        if not path:
            return None
        if not Path(path).suffix:
            path += filters.get(selected, ".png")
        return path

    def _confirm_overwrite(self, target: Path) -> bool:
        answer = QMessageBox.question(
            self, "Replace the file?", f"{target.name} already exists. Replace it?"
        )
        return answer == QMessageBox.StandardButton.Yes

    def _autosave(self, outcome: Outcome) -> Path | None:
        """Keep every finished or interrupted run in the autosave folder (the last 30)."""
        folder = autosave_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = time.strftime("%Y%m%d-%H%M%S") + f"-{outcome.status}.png"
            picture = self._picture()
            picture = outcome.image if picture is None else picture
            path = save_image(picture, folder / name, metadata=self._metadata())
            for old in sorted(folder.glob("*.png"))[:-AUTOSAVE_KEEP]:
                old.unlink(missing_ok=True)
        except (ImageError, OSError) as exc:
            log.warning("autosave failed: %s", exc)
            return None
        log.info("autosaved %s", path)
        self.autosaved = path
        return path

    # ================================================================== misc
    def status(self, text: str) -> None:
        self.status_label.setText(text)
        log.debug("status: %s", text)

    def show_message(self, text: str, kind: str = "error") -> None:
        self.message_bar.show_message(text, kind)
        self.status(text if len(text) < 120 else text[:117] + "…")

    def about(self) -> None:
        import sys

        torch_version = "not loaded yet"
        if "torch" in sys.modules:
            torch_version = sys.modules["torch"].__version__
        QMessageBox.about(
            self,
            "About NST Desktop",
            f"<b>NST Desktop {__version__}</b><br>Neural style transfer after Gatys, Ecker and "
            f"Bethge (2016).<br>PyTorch {torch_version}<br><br>Log file: {log_file()}<br>"
            f"Autosaved pictures: {autosave_dir()}",
        )

    # ================================================================== persistence
    def _restore(self) -> None:
        geometry = self.qs.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        text = _qs_str(self.qs, "run/settings")
        settings = RunSettings()
        if text:
            try:
                settings, warnings = RunSettings.from_json(text, strict=False)
                if warnings:
                    log.warning("stored settings: %s", "; ".join(warnings))
            except SettingsError as exc:
                log.warning("stored settings ignored: %s", exc)
        first_launch = self.qs.value("run/content") is None
        content = _qs_str(self.qs, "run/content")
        styles = _qs_style_entries(self.qs)
        if first_launch:
            samples = resources_dir() / "samples"
            content = str(samples / SAMPLE_CONTENT)
            styles = [(str(samples / SAMPLE_STYLE), 1.0)]
        if content and Path(content).is_file():
            self.content_picker.set_path(content)
        existing = [(p, w) for p, w in styles if Path(p).is_file()]
        if existing:
            self.style_picker.set_entries(existing)
        self.set_settings(settings)
        self.message_bar.hide()

    def save_state(self) -> None:
        self.qs.setValue("window/geometry", self.saveGeometry())
        self.qs.setValue("run/settings", self.current_settings().to_json(indent=None))
        self.qs.setValue("run/content", self.content_picker.path() or "")
        self.qs.setValue("run/styles", json.dumps(self.style_picker.entries()))
        self.qs.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        thread = self.thread
        if thread is not None:
            thread.stop()
            self.status("Stopping the run…")
            if not thread.wait(CLOSE_WAIT_MS):  # pragma: no cover - a wedged device
                log.error("the run did not stop within %d ms", CLOSE_WAIT_MS)
            # The outcome signal is queued; deliver it now so the image is autosaved.
            from PySide6.QtCore import QCoreApplication

            QCoreApplication.sendPostedEvents()
            QCoreApplication.processEvents()
        try:
            self.save_state()
        except Exception:  # noqa: BLE001 - closing must not fail over preferences
            log.exception("could not save the window state")
        super().closeEvent(event)


# ---------------------------------------------------------------------- helpers
def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def _select(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def _quiet(widget: QWidget, action: Any) -> None:
    blocked = widget.blockSignals(True)
    try:
        action()
    finally:
        widget.blockSignals(blocked)


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def _qs_str(qs: QSettings, key: str) -> str:
    """A string preference; anything else stored there (a damaged file) reads as empty."""
    value = qs.value(key)
    return value if isinstance(value, str) and len(value) < 100_000 else ""


def _qs_style_entries(qs: QSettings) -> list[tuple[str, float]]:
    try:
        data = json.loads(_qs_str(qs, "run/styles") or "[]")
    except ValueError:
        return []
    entries = []
    if isinstance(data, list):
        for item in data[:16]:
            if (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], (int, float))
                and math.isfinite(item[1])
                and 0 <= item[1] <= 1e6
            ):
                entries.append((item[0], float(item[1])))
    return entries


def _open_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


__all__ = ["MainWindow"]
