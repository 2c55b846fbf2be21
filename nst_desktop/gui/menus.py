"""The window's menus and their shortcuts (the actions tests and the run controls reach by name
are kept on the window: ``w.run_action``, ``w.stop_action``, ``w.quit_action``...)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence

from nst_desktop.gui.variations_dialog import ask_variations
from nst_desktop.gui.view_actions import ViewActions


def build_menus(w: Any) -> None:
    """File, Run, View and Help for the main window ``w`` (Edit comes from its undo stack)."""

    def action(menu, text, slot, shortcut=None) -> QAction:
        act = QAction(text, w)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    keys = QKeySequence.StandardKey
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    w.open_content_action = action(
        file_menu, "Open content image…", w.content_picker.browse, keys.Open
    )
    w.add_style_action = action(
        file_menu, "Add style image…", w.style_picker.browse, "Ctrl+Shift+O"
    )
    action(file_menu, "Load settings from image…", w.load_settings_dialog, "Ctrl+L")
    file_menu.addSeparator()
    w.export_action = action(file_menu, "Export picture…", lambda: w.export(), keys.Save)
    w.export_timelapse_action = action(
        file_menu, "Export time-lapse…", lambda: w.export_timelapse(), "Ctrl+Shift+S"
    )
    action(file_menu, "Open history folder", w._open_history_folder)
    file_menu.addSeparator()
    w.quit_action = action(file_menu, "Quit", w.close, keys.Quit)

    run_menu = bar.addMenu("&Run")
    w.run_action = action(run_menu, "Run", w.start_run, "Ctrl+Return")
    w.continue_action = action(run_menu, "Continue", w.continue_run, "Ctrl+Shift+Return")
    action(run_menu, "Queue", lambda: w.model.queue.add_current(), "Ctrl+Alt+Return")
    w.variations_action = action(
        run_menu, "Variations…", lambda: ask_variations(w, w.model.variations)
    )
    w.pause_action = action(run_menu, "Pause / Resume", w.toggle_pause, "Ctrl+P")
    w.stop_action = action(run_menu, "Stop", w.stop_run, "Esc")
    run_menu.addSeparator()
    action(run_menu, "New random seed", w.settings_panel.roll_seed, "Ctrl+R")

    view_menu = bar.addMenu("&View")
    preview = w.picture_area.preview
    action(view_menu, "Fit the picture", preview.fit, "Ctrl+0")
    action(view_menu, "Actual pixels (100%)", preview.actual_size, "Ctrl+1")
    action(view_menu, "Zoom in", lambda: preview.zoom_by(1.25), keys.ZoomIn)
    action(view_menu, "Zoom out", lambda: preview.zoom_by(0.8), keys.ZoomOut)
    action(view_menu, "Before / after", w._toggle_compare, "Ctrl+B")
    w.view_actions = ViewActions(
        w,
        view_menu,
        w.picture_area,
        [w.splitter.widget(0), w.run_bar, w.bottom_tabs],
        w.model.set_status,
    )

    help_menu = bar.addMenu("&Help")
    action(help_menu, "Open log folder", w._open_log_folder)
    action(help_menu, "About NST Desktop", w.about)
