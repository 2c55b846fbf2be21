"""The main window: images and knobs on the left, the evolving picture and its loss on the right.

The window is layout, menus and bindings. What it shows lives in the window model
(``gui/model.py``); runs are started by the run controller (``gui/run_controller.py``) over
``core.session``; the left side (mode, pictures, the knobs' tabs: ``gui/control_panel.py``),
exports, the estimate line and the message bar have modules of their own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.history import history_dir
from nst_desktop.core.paths import resources_dir
from nst_desktop.core.settings import Mode, RunSettings
from nst_desktop.gui import data_folder, first_run, window_dialogs, window_state
from nst_desktop.gui.attention import APP_TITLE, Attention
from nst_desktop.gui.closing import EndGuard, close_dialogs
from nst_desktop.gui.compare_view import CompareView
from nst_desktop.gui.control_panel import ControlPanel
from nst_desktop.gui.engine import EngineLoader
from nst_desktop.gui.estimate import Estimator
from nst_desktop.gui.exporter import Exporter
from nst_desktop.gui.history_strip import HistoryStrip
from nst_desktop.gui.jobs import cancel_and_join_all
from nst_desktop.gui.menus import build_menus
from nst_desktop.gui.message_bar import MessageBar
from nst_desktop.gui.model import Clear, RunState, WindowModel
from nst_desktop.gui.picture_area import PictureArea
from nst_desktop.gui.queue_panel import QueuePanel
from nst_desktop.gui.region_overlay import RegionOverlay
from nst_desktop.gui.run_bar import RunBar
from nst_desktop.gui.run_controller import RunController
from nst_desktop.gui.settings_panel import CURRENT_PICTURE
from nst_desktop.gui.sweep_cell import SweepCells
from nst_desktop.gui.tile_marks import TileOverlay
from nst_desktop.gui.undo import SettingsUndo
from nst_desktop.gui.variations_dialog import SheetView
from nst_desktop.gui.weights_check import WeightsChecker
from nst_desktop.logs import log_dir

log = logging.getLogger(__name__)

__all__ = ["MainWindow", "history_dir"]

#: How long closing the window waits for its background jobs (an estimate probe's last pass).
JOIN_ON_CLOSE_S = 10.0


class MainWindow(QMainWindow):
    closed = Signal()  # the window has closed: its run stopped and its jobs ended

    def __init__(self, qsettings: QSettings | None = None, *, load_engine: bool = True) -> None:
        super().__init__()
        self.qs = qsettings if qsettings is not None else QSettings()
        self._first_launch = first_run.is_first_launch(self.qs)
        self.setWindowTitle(APP_TITLE)
        icon = resources_dir() / "icons" / "nst-desktop.png"
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))
        self.setMinimumSize(QSize(980, 640))
        self.model = WindowModel(self)
        self.runs = RunController(self.model, self._choose_weights, self)
        self.estimator = Estimator(self.model, self.runs.aspect, self)
        self.exporter = Exporter(self.model, self.qs, self, self._timelapse_frames)
        self.end_guard = EndGuard(self.qs, self)
        self._asking_to_close = True
        self._build()
        self.sweep_cells = SweepCells(self.model, self.sweep_view, self.exporter, self)
        self._build_menus()
        self._bind()
        self.attention = Attention(self, self.model)
        self.weights_check = WeightsChecker(self.model, self)
        window_state.restore(self, self.model, self.qs, self.splitter)
        self.undo = SettingsUndo(self.model, self)  # after the restore: that is no step
        self.undo.add_menu(self.menuBar(), before=self.menuBar().actions()[1])
        self.state_saver = window_state.StateSaver(self, self.model, self.qs, self.splitter)
        data_folder.warn_if_history_is_off(self.model, history_dir())
        QTimer.singleShot(0, self.model.history.load)  # once shown, off the GUI thread
        self.model.queue.start = self.runs.start
        QTimer.singleShot(0, self.model.queue.load)
        self.loader = EngineLoader(self)
        self.loader.ready.connect(self._engine_ready)
        self.loader.failed.connect(self._engine_failed)
        if load_engine:
            self.model.set_status("Loading the engine…")
            self.loader.start()

    # ================================================================== layout
    def _build(self) -> None:
        left = ControlPanel(self.model, self.qs)
        self.controls = left
        (
            self.content_picker, self.style_picker, self.mode_combo, self.tabs,
            self.basic_panel, self.settings_panel, self.layers_panel, self.expert_headers,
            self.preset_panel, self.region_panel,
        ) = (
            left.content_picker, left.style_picker, left.mode_combo, left.tabs,
            left.basic_panel, left.settings_panel, left.layers_panel, left.expert_headers,
            left.preset_panel, left.region_panel,
        )  # fmt: skip

        self.message_bar = MessageBar(self.model)
        self.picture_area = PictureArea(self.model)
        self.region_overlay = RegionOverlay(self.model.regions, self.picture_area.preview)
        self.tile_overlay = TileOverlay(self.model.tiles, self.picture_area.preview)
        self.run_bar = RunBar(self.model)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 6, 6, 6)
        right_layout.addWidget(self.message_bar)
        right_layout.addWidget(self.picture_area, 1)
        right_layout.addWidget(self.run_bar)
        self.history_strip = HistoryStrip(self.model.history)
        self.queue_panel = QueuePanel(self.model.queue)
        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.addTab(self.history_strip, "History")
        self.bottom_tabs.addTab(self.queue_panel, "Queue")
        right_layout.addWidget(self.bottom_tabs)
        self.compare_view = CompareView(self.model.history, self)
        self.sheet_view = SheetView(self.model.variations, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([430, 800])
        self.setCentralWidget(self.splitter)
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # file names are not markup
        self.device_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.device_label)
        # the widgets tests and menus reach by name
        area, bar = self.picture_area, self.run_bar
        self.preview, self.sweep_view, self.stack = area.preview, area.sweep_view, area.stack
        self.loss_plot, self.compare_button = area.loss_plot, area.compare_button
        self.progress_bar, self.progress_label = bar.progress_bar, bar.progress_label
        self.estimate_label, self.export_button = bar.estimate_label, bar.export_button
        self.run_button, self.pause_button, self.stop_button = (
            bar.run_button, bar.pause_button, bar.stop_button,
        )  # fmt: skip

    def _build_menus(self) -> None:
        build_menus(self)

    # ================================================================== bindings
    def _bind(self) -> None:
        """Widgets show the model and report edits to it, never the other way round."""
        m = self.model
        m.settingsChanged.connect(self._show_settings)
        m.contentChanged.connect(self.content_picker.show_image)
        m.stylesChanged.connect(self.style_picker.show_entries)
        m.runStateChanged.connect(self._show_run_state)
        m.statusChanged.connect(self._show_status)
        m.exportableChanged.connect(self.export_action.setEnabled)
        self.settings_panel.edited.connect(self._setting_edited)
        self.basic_panel.edited.connect(lambda values: m.update_settings(**values))
        m.estimateChanged.connect(lambda line: self.basic_panel.show_estimate(line.text))
        self.layers_panel.edited.connect(
            lambda content, style: m.update_settings(content_layers=content, style_layers=style)
        )
        self.mode_combo.currentIndexChanged.connect(
            lambda i: m.set_mode(self.mode_combo.itemData(i))
        )
        self.content_picker.changed.connect(m.set_content)
        self.style_picker.edited.connect(m.set_styles)
        for picker, clears in (
            (self.content_picker, Clear.CONTENT),
            (self.style_picker, Clear.STYLES),
        ):
            picker.error.connect(
                lambda text, c=clears: m.show_message(text, clears={c, Clear.RUN_STARTS})
            )
            picker.settingsDropped.connect(self._offer_settings_from)
        self.preset_panel.presetApplied.connect(self._preset_applied)
        m.settingsChanged.connect(self.preset_panel.show_settings)
        self.preset_panel.status.connect(m.set_status)
        bar = self.run_bar
        bar.run_button.clicked.connect(self.start_run)
        bar.pause_button.clicked.connect(self.toggle_pause)
        bar.stop_button.clicked.connect(self.stop_run)
        bar.continue_button.clicked.connect(self.continue_run)
        bar.export_button.clicked.connect(lambda: self.export())
        self._show_settings(m.settings)
        self._show_run_state(m.run_state)
        self.export_action.setEnabled(m.exportable)

    def _setting_edited(self, name: str, value: Any) -> None:
        if name == "init" and value == CURRENT_PICTURE:  # kept as a file a run can start from
            path = self.runs.keep_current_picture()
            if path is None:
                self.model.show_message("There is no picture yet to start from; run first.")
                self.settings_panel.show_settings(self.model.settings)
                return
            value = str(path)
        self.model.update_settings(**{name: value})

    def _show_settings(self, settings: RunSettings) -> None:
        mode = Mode(settings.mode)
        blocked = self.mode_combo.blockSignals(True)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        self.mode_combo.blockSignals(blocked)
        self.settings_panel.show_settings(settings)
        self.basic_panel.show_settings(settings)
        self.layers_panel.set_mode(mode)
        self.layers_panel.show_layers(settings.content_layers, settings.style_layers)
        self._show_run_state(self.model.run_state)

    def _show_run_state(self, state: RunState) -> None:
        busy = state != RunState.IDLE
        if not busy:
            self.end_guard.run_ended()
        elif self.end_guard.started is None:
            self.end_guard.run_started()
        controllable = state in (RunState.RUNNING, RunState.PAUSED)
        self.run_action.setEnabled(not busy)
        self.pause_action.setEnabled(controllable)
        self.stop_action.setEnabled(controllable)
        mode = Mode(self.model.settings.mode)  # editable during a run: Queue takes the edits
        self.content_picker.setEnabled(mode.uses_content)
        self.style_picker.setEnabled(mode.uses_styles)

    def _show_status(self, text: str) -> None:
        self.status_label.setText(text)
        log.debug("status: %s", text)

    def _toggle_compare(self) -> None:
        if self.compare_button.isEnabled():
            self.compare_button.toggle()

    # ================================================================== actions
    def start_run(self) -> bool:
        return self.runs.start()

    def toggle_pause(self) -> None:
        self.runs.pause_resume()

    def continue_run(self) -> bool:
        """More iterations from the picture on screen (the run bar's Continue)."""
        return self.runs.continue_run(self.run_bar.more_steps.value())

    def stop_run(self) -> None:
        """Esc and Stop: a run that has gone on for a while asks first."""
        if self.end_guard.may_end_run(self._running()):
            self.runs.stop()

    def export(self, path: str | None = None) -> Path | None:
        return self.exporter.export(path)

    def export_timelapse(self, path: str | None = None) -> Path | None:
        return self.exporter.export_timelapse(path)

    def _timelapse_frames(self) -> list[Any]:
        recorder = self.runs.recorder
        return recorder.frames if recorder is not None else []

    def _choose_weights(self, source: str) -> str | None:
        from nst_desktop.gui.weights_dialog import WeightsDialog

        dialog = WeightsDialog(self, source)
        dialog.exec()
        return dialog.choice

    def _preset_applied(self, settings: RunSettings, _changed: list[str]) -> None:
        changes = self.model.set_settings(settings)
        self.model.set_status(
            f"Preset applied: {len(changes)} setting(s) changed."
            if changes
            else "Preset applied: nothing changed."
        )

    def _engine_ready(self, devices: list[tuple[str, str]]) -> None:
        self.settings_panel.set_devices(devices)
        self.device_label.setText(" · ".join(label for _, label in devices[:1]))
        first_run.start_at_preview(self.model, self.qs, devices, self._first_launch)
        self.model.set_status("Ready.")
        self.estimator.start()
        self.runs.on_engine_ready()

    def _engine_failed(self, message: str) -> None:
        self.runs.on_engine_failed()
        self.model.show_message(message, clears=frozenset())

    # ---- settings embedded in exported pictures
    def _offer_settings_from(self, path: str) -> None:
        if window_dialogs.ask_use_settings(self, path):
            self.load_settings_from(path)

    def _open_history_folder(self) -> None:
        data_folder.open_folder(self.model, history_dir(), "history folder", self)

    def _open_log_folder(self) -> None:
        data_folder.open_folder(self.model, log_dir(), "log folder", self)

    def load_settings_dialog(self) -> None:
        if path := window_dialogs.pick_settings_picture(self):
            self.load_settings_from(path)

    def load_settings_from(self, path: str) -> bool:
        use_file = lambda name: window_dialogs.confirm_start_file(self, name)  # noqa: E731
        if not self.model.load_picture_settings(path, use_file=use_file):
            return False
        self.model.history.restore_picture_inputs(path)  # its pictures, verified by content
        return True

    def about(self) -> None:
        window_dialogs.show_about(self)

    # ================================================================== closing
    def save_state(self) -> None:
        self.state_saver.save_now()

    def _running(self) -> bool:
        """A run that Stop would end (one already stopping asks nothing more)."""
        return self.model.run_state in (RunState.RUNNING, RunState.PAUSED)

    def close_without_asking(self) -> None:
        """A close nobody can answer a question for (SIGTERM, SIGHUP, the session ending)."""
        self._asking_to_close = False
        self.close()

    def shutdown(self) -> None:
        """Stop the run (its picture is kept in the history) and end every background job."""
        self.runs.shutdown()
        cancel_and_join_all(timeout=JOIN_ON_CLOSE_S)  # the engine loader, a probe, a download

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        asking, self._asking_to_close = self._asking_to_close, True
        if asking and not self.end_guard.may_end_run(self._running()):
            event.ignore()
            return
        close_dialogs(self)
        self.hide()
        self.shutdown()
        self.save_state()
        super().closeEvent(event)
        self.closed.emit()
