"""The main window end to end, offscreen: real runs with random weights at tiny sizes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nst_desktop.core import optimize, planner
from nst_desktop.core.history import History
from nst_desktop.core.images import read_metadata
from nst_desktop.core.layers import RELU_LAYERS
from nst_desktop.core.settings import RunSettings
from nst_desktop.gui import main_window as mw
from nst_desktop.gui import window_state
from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.run_controller import RunController
from nst_desktop.gui.worker import running_threads

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(1)
    content = tmp_path / "photo.png"
    style = tmp_path / "art.png"
    Image.fromarray(rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)).save(content)
    stripes = (np.sin(np.arange(40) / 2.0)[None, :, None] * 120 + 128).astype(np.uint8)
    Image.fromarray(np.broadcast_to(stripes, (36, 40, 3)).copy()).save(style)
    return str(content), str(style)


@pytest.fixture
def qs(tmp_path):
    return QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)


def _tiny(window: MainWindow, steps: int = 6, size: int = 32, **knobs) -> None:
    window.model.update_settings(weights="random", size=size, steps=steps, **knobs)


@pytest.fixture
def window(qtbot, qs, images):
    w = MainWindow(qs)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.content_picker.set_path(images[0])
    w.style_picker.set_entries([(images[1], 1.0)])
    _tiny(w)
    yield w
    w.close()


def _wait_idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)


def _step(window: MainWindow) -> int:
    """The latest evaluation the window has been told of (0: none yet)."""
    live = window.model.runs.live
    return live.last.step if live is not None and live.last is not None else 0


def _outcome(window: MainWindow):
    return window.model.runs.last_result


def _wait_step(qtbot, window: MainWindow, step: int) -> None:
    qtbot.waitUntil(lambda: _step(window) >= step, timeout=RUN_TIMEOUT_MS)


# ---------------------------------------------------------------------- building
def test_window_builds_with_every_panel(window):
    assert window.windowTitle() == "NST Desktop"
    assert window.minimumWidth() >= 900 and window.minimumHeight() >= 600
    assert [window.mode_combo.itemData(i) for i in range(window.mode_combo.count())] == [
        "transfer",
        "content-rep",
        "style-rep",
        "sweep",
    ]
    assert list(window.layers_panel.rows) == list(RELU_LAYERS) and len(RELU_LAYERS) == 16
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Basic",
        "Expert",
        "Presets",
        "Regions",
    ]
    # the paper's defaults are pre-set
    d = RunSettings()
    assert window.layers_panel.style_layers() == d.style_layers
    assert window.layers_panel.content_layers() == d.content_layers
    assert window.status_label.text() == "Ready."
    for action in (window.run_action, window.stop_action, window.export_action):
        assert not action.shortcut().isEmpty()


def test_first_launch_shows_the_samples(qtbot, tmp_path):
    qs = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs, load_engine=False)
    qtbot.addWidget(w)
    assert Path(w.content_picker.path()).name == window_state.SAMPLE_CONTENT
    assert [Path(p).name for p in w.style_picker.paths()] == [window_state.SAMPLE_STYLE]


def test_every_knob_reaches_the_worker(window, monkeypatch, tmp_path):
    """Change each control as a user would; the job the worker gets carries the new value."""
    jobs = []
    monkeypatch.setattr(RunController, "begin", lambda self, job: jobs.append(job))
    init_file = tmp_path / "start.png"
    Image.new("RGB", (8, 8), (10, 20, 30)).save(init_file)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(init_file), ""))
    )
    panel = window.settings_panel
    changes = {
        "size": 48,
        "steps": 7,
        "content_weight": 3.5,
        "style_weight": 2000.0,
        "tv_weight": 0.25,
        "style_scale": 0.5,
        "seed": 1234,
        "lr": 0.5,
        "lbfgs_history": 12,
        "scales": 2,
        "coarse_steps": 3,
        "threads": 1,
    }
    for name, value in changes.items():
        widget = panel.knobs[name].widget
        spin = widget.layout().itemAt(0).widget() if name == "seed" else widget
        spin.setValue(value)
    combos = {"color": "luminance", "pool": "max", "precision": "float32", "optimizer": "adam"}
    for name, value in combos.items():
        combo = panel.knobs[name].widget
        combo.setCurrentIndex(combo.findData(value))
    panel.knobs["lbfgs_line_search"].widget.setChecked(True)
    init_combo = panel.knobs["init"].widget
    init_combo.setCurrentIndex(init_combo.findData("__file__"))  # asks for a file
    rows = window.layers_panel.rows
    rows["relu2_2"].style.setChecked(True)
    rows["relu2_2"].style_weight.setValue(0.5)
    rows["relu1_1"].style.setChecked(False)
    rows["relu3_1"].content.setChecked(True)
    rows["relu3_1"].content_weight.setValue(2.0)
    window.style_picker.add_path(str(tmp_path / "start.png"), 3.0)

    assert window.start_run()
    s = jobs[0].settings
    for name, value in {**changes, **combos}.items():
        assert getattr(s, name) == pytest.approx(value), name
    assert s.lbfgs_line_search is True
    assert s.init == str(init_file)
    assert s.weights == "random"
    assert s.style_layers["relu2_2"] == 0.5 and "relu1_1" not in s.style_layers
    assert s.content_layers == {"relu4_2": 1.0, "relu3_1": 2.0}
    assert s.style_blend == [1.0, 3.0]
    assert jobs[0].styles[1][0] == str(tmp_path / "start.png")


def test_modes_enable_only_what_applies(window, monkeypatch):
    jobs = []
    monkeypatch.setattr(RunController, "begin", lambda self, job: jobs.append(job))
    knobs = window.settings_panel.knobs
    combo = window.mode_combo
    combo.setCurrentIndex(combo.findData("content-rep"))
    assert not knobs["style_weight"].widget.isEnabled()
    assert not knobs["color"].widget.isEnabled()
    assert not window.style_picker.isEnabled() and window.content_picker.isEnabled()
    assert not window.layers_panel.rows["relu1_1"].style.isEnabled()
    # exactly one content layer in this mode: ticking another unticks the first
    window.layers_panel.rows["relu2_1"].content.setChecked(True)
    assert window.layers_panel.content_layers() == {"relu2_1": 1.0}
    combo.setCurrentIndex(combo.findData("style-rep"))
    assert not window.content_picker.isEnabled() and window.style_picker.isEnabled()
    assert not knobs["content_weight"].widget.isEnabled()
    combo.setCurrentIndex(combo.findData("transfer"))
    assert knobs["style_weight"].widget.isEnabled() and knobs["color"].widget.isEnabled()
    # L-BFGS-only knobs follow the optimizer
    opt = knobs["optimizer"].widget
    opt.setCurrentIndex(opt.findData("adam"))
    assert not knobs["lbfgs_history"].widget.isEnabled()
    combo.setCurrentIndex(combo.findData("content-rep"))
    assert window.start_run()
    assert jobs[-1].settings.mode == "content-rep"


def test_a_representation_mode_starts_from_noise(window):
    init = window.settings_panel.knobs["init"]
    window.model.update_settings(init="content")
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("style-rep"))
    assert init.get() == "noise"
    assert "white noise" in window.status_label.text()


def test_invalid_values_cannot_be_entered(window):
    knobs = window.settings_panel.knobs
    size = knobs["size"].widget
    size.setValue(10**9)
    assert size.value() == 8192
    sw = knobs["style_weight"].widget
    assert sw.validate("abc", 0)[0].name == "Invalid"
    assert sw.validate("1e99", 0)[0].name != "Acceptable"
    sw.setValue(-5)
    assert sw.value() == 0.0
    assert window.model.settings.validate()


# ---------------------------------------------------------------------- running
def test_tiny_run_shows_progress_and_a_changing_picture(qtbot, window):
    before = window.preview.current_image().copy()
    shown = window.preview.frames_shown
    assert window.start_run()
    assert window.model.run_state == "running" and not window.run_button.isEnabled()
    _wait_idle(qtbot, window)
    assert _outcome(window).status == "done", _outcome(window).message
    assert window.progress_bar.value() == 6 and window.progress_bar.maximum() == 6
    assert "6 iterations" in window.progress_label.text()
    assert window.loss_plot.point_count("total") == 6
    after = window.preview.current_image()
    assert after.shape == (26, 32, 3)
    assert not np.array_equal(before, after)
    assert window.preview.frames_shown > shown
    assert window.run_button.isEnabled() and not window.stop_button.isEnabled()
    assert _outcome(window).metadata["weights"].startswith("random")
    assert running_threads() == []
    # every finished run is also kept in the history
    kept = History().get(_outcome(window).history_id)
    assert kept.result.is_file() and kept.folder.parent == mw.history_dir()


def test_stop_mid_run_keeps_the_picture(qtbot, window, tmp_path):
    _tiny(window, steps=100_000)
    assert window.start_run()
    _wait_step(qtbot, window, 3)
    window.stop_run()
    _wait_idle(qtbot, window)
    out = _outcome(window)
    assert out.status == "stopped" and 3 <= out.iterations < 100_000
    result = window.model.picture.image
    assert result is not None and result.shape[2] == 3
    path = window.export(str(tmp_path / "stopped.png"))
    assert path is not None
    meta = read_metadata(path)
    assert meta["status"] == "stopped" and meta["iterations"] == out.iterations


def test_pause_holds_the_step_count(qtbot, window):
    _tiny(window, steps=100_000)
    assert window.start_run()
    _wait_step(qtbot, window, 2)
    window.toggle_pause()
    assert window.pause_button.text() == "Resume"
    qtbot.wait(300)  # the evaluation in flight may still report
    held = _step(window)
    qtbot.wait(700)
    assert _step(window) == held
    window.toggle_pause()
    _wait_step(qtbot, window, held + 2)
    window.stop_run()
    _wait_idle(qtbot, window)


def test_second_run_is_refused_while_one_runs(qtbot, window):
    _tiny(window, steps=100_000)
    assert window.start_run()
    first = window.runs.thread
    assert window.start_run() is False
    assert window.runs.thread is first and "already" in window.status_label.text()
    window.stop_run()
    _wait_idle(qtbot, window)


def test_closing_during_a_run_stops_it_and_keeps_the_picture(qtbot, qs, images):
    w = MainWindow(qs)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.content_picker.set_path(images[0])
    w.style_picker.set_entries([(images[1], 1.0)])
    _tiny(w, steps=100_000)
    assert w.start_run()
    _wait_step(qtbot, w, 2)
    thread = w.runs.thread
    w.close()
    assert thread not in running_threads() and running_threads() == []
    assert _outcome(w) is not None and _outcome(w).status == "stopped"
    kept = History().get(_outcome(w).history_id)  # the final picture is kept in the history
    assert kept.result.is_file() and kept.status == "stopped" and kept.iterations >= 2
    # the choices are remembered for the next start
    again = MainWindow(qs, load_engine=False)
    qtbot.addWidget(again)
    assert again.content_picker.path() == images[0]
    assert again.model.settings.steps == 100_000


def test_sweep_mode_fills_the_grid_and_exports_it(qtbot, window, tmp_path):
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("sweep"))
    _tiny(window, steps=2)
    assert window.stack.currentWidget() is window.sweep_view
    assert window.start_run()
    _wait_idle(qtbot, window)
    assert _outcome(window).status == "done"
    assert window.sweep_view.done_count() == 10
    assert window.sweep_view._rows == [
        ("Content reconstruction", [f"content relu{b}_1" for b in range(1, 6)]),
        ("Style reconstruction", ["style relu1_1"] + [f"style +relu{b}_1" for b in range(2, 6)]),
    ]
    path = window.export(str(tmp_path / "sweep.png"))
    with Image.open(path) as img:
        assert img.width > 5 * 32  # a grid, not one cell


# ---------------------------------------------------------------------- errors
def test_an_error_in_the_run_shows_a_message_and_keeps_the_picture(qtbot, window, monkeypatch):
    real_run = optimize.run

    def failing(settings, *args, **kwargs):
        for rec in real_run(dataclasses.replace(settings, steps=100_000), *args, **kwargs):
            yield rec
            if rec.step >= 3:
                raise RuntimeError("simulated device failure")

    monkeypatch.setattr(optimize, "run", failing)
    assert window.start_run()
    _wait_idle(qtbot, window)
    text = window.message_bar.text()
    assert text.startswith("Sorry, something went wrong") and "log" in text
    assert window.model.picture.image is not None  # the last good picture stays
    monkeypatch.setattr(optimize, "run", real_run)
    assert window.start_run()  # the window is still usable
    _wait_idle(qtbot, window)
    assert _outcome(window).status == "done"


def test_out_of_memory_reads_as_one_sentence_with_a_way_forward(qtbot, window, monkeypatch):
    real_run = optimize.run

    def oom(settings, *args, **kwargs):
        gen = real_run(dataclasses.replace(settings, steps=100_000), *args, **kwargs)
        for rec in gen:
            yield rec
            if rec.step >= 2:
                error = RuntimeError("CUDA out of memory")
                final = dataclasses.replace(
                    rec,
                    status="error",
                    image=np.zeros((32, 40, 3), np.uint8),
                    message=optimize.runtime_message(error),
                    failure=optimize.failure_kind(error),
                )
                yield final
                return

    monkeypatch.setattr(optimize, "run", oom)
    assert window.start_run()
    _wait_idle(qtbot, window)
    text = window.message_bar.text()
    assert "ran out of memory" in text and "lower the size" in text
    assert window.model.picture.image is not None and window.run_button.isEnabled()


def test_missing_images_and_bad_settings_are_one_sentence(window):
    window.content_picker.set_path(None)
    assert window.start_run() is False
    assert window.message_bar.text().startswith("Choose a content image first")
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("style-rep"))
    for row in window.layers_panel.rows.values():
        row.style.setChecked(False)
    assert window.start_run() is False
    assert "style layer" in window.message_bar.text()
    assert running_threads() == []


def test_damaged_preferences_fall_back_to_defaults(qtbot, tmp_path):
    path = tmp_path / "bad.ini"
    qs = QSettings(str(path), QSettings.Format.IniFormat)
    qs.setValue("window/geometry", "not a geometry")
    qs.setValue("run/settings", '{"size": "huge", "steps": -4, "mode": 7, "nope": 1')
    qs.setValue("run/content", 42)
    qs.setValue("run/styles", '[[1, 2], ["x", "y"], 5')
    qs.setValue("recent/images", {"a": 1})
    qs.sync()
    w = MainWindow(qs, load_engine=False)
    qtbot.addWidget(w)
    assert w.model.settings.size == RunSettings().size
    assert w.content_picker.path() is None and w.style_picker.paths() == []
    qs2 = QSettings(str(tmp_path / "bad2.ini"), QSettings.Format.IniFormat)
    qs2.setValue("run/settings", json.dumps({"size": 99999999, "steps": 12, "pool": "max"}))
    qs2.setValue("run/content", "")
    w2 = MainWindow(qs2, load_engine=False)
    qtbot.addWidget(w2)
    s = w2.model.settings
    assert s.steps == 12 and s.pool == "max" and s.size == RunSettings().size


# ---------------------------------------------------------------------- exporting
def test_export_formats_and_overwrite_asks(qtbot, window, tmp_path, monkeypatch):
    assert window.start_run()
    _wait_idle(qtbot, window)
    for ext in (".png", ".jpg", ".webp", ".tif"):
        path = window.export(str(tmp_path / f"out{ext}"))
        with Image.open(path) as img:
            assert img.size == (32, 26) and img.mode == "RGB"  # 40 x 32 at 32 px
        assert read_metadata(path)["settings"]["steps"] == 6
    target = tmp_path / "out.png"
    stamp = target.stat().st_mtime_ns
    answers = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(lambda *a, **k: answers.append(a[2]) or QMessageBox.StandardButton.No),
    )
    assert window.export(str(target)) is None
    assert answers and "already exists" in answers[0]
    assert target.stat().st_mtime_ns == stamp
    # through the dialog, with no extension typed: the chosen format's is added
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        staticmethod(lambda *a, **k: (str(tmp_path / "picked"), "WebP image (*.webp)")),
    )
    assert window.export() == tmp_path / "picked.webp"
    assert window.export(str(tmp_path / "x.bmp")) is None
    assert "Cannot save as" in window.message_bar.text()
    missing = tmp_path / "no" / "such" / "dir.png"
    assert window.export(str(missing)) is None
    assert "does not exist" in window.message_bar.text()
    assert window.export(str(tmp_path / "again.png")) is not None  # still exportable


def test_export_before_any_run_says_so(window):
    assert window.export() is None
    assert "nothing to export" in window.message_bar.text()


def test_timelapse_export(qtbot, window, tmp_path):
    _tiny(window, steps=12)
    assert window.start_run()
    window.runs.thread.preview_interval = 0.0  # every step, so the animation has frames
    _wait_idle(qtbot, window)
    path = window.export_timelapse(str(tmp_path / "evolving.gif"))
    with Image.open(path) as img:
        assert img.n_frames >= 2


def test_settings_travel_inside_an_exported_picture(qtbot, window, tmp_path):
    _tiny(window, steps=3, seed=77, tv_weight=0.5)
    assert window.start_run()
    _wait_idle(qtbot, window)
    path = window.export(str(tmp_path / "made.png"))
    _tiny(window, steps=9, seed=1, tv_weight=0.0)
    window.model.update_settings(device="cpu")
    assert window.load_settings_from(str(path))
    s = window.model.settings
    assert (s.steps, s.seed, s.tv_weight) == (3, 77, 0.5)
    assert s.device == "cpu"  # the computer's knobs stay this computer's
    hostile = tmp_path / "hostile.png"
    from nst_desktop.core.images import save_image

    save_image(
        np.zeros((8, 8, 3), np.uint8),
        hostile,
        metadata={"settings": {"steps": "rm -rf /", "size": 1e300, "mode": "sweep", "x": {}}},
    )
    assert window.load_settings_from(str(hostile))
    s = window.model.settings
    assert s.mode == "transfer" and s.steps == 3 and s.size == 32  # the mode is the window's
    assert "except" in window.message_bar.text()
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    assert not window.load_settings_from(str(plain))
    assert "carries no NST Desktop settings" in window.message_bar.text()


def test_preset_changes_the_knobs(window):
    panel = window.preset_panel
    assert panel.select("Fast preview") or panel.select(panel.presets()[0].name)
    panel.apply_selected()
    assert "Preset applied" in window.status_label.text()
    assert window.model.settings.weights == "random"  # machine knobs are kept


# ---------------------------------------------------------------------- planner, snapshots
def test_the_estimate_follows_the_settings(qtbot, window):
    estimator = window.estimator
    qtbot.waitUntil(lambda: estimator.calibrations.get("cpu") is not None, timeout=60_000)
    qtbot.waitUntil(lambda: "per iteration" in window.estimate_label.text(), timeout=10_000)
    small = estimator.estimate
    _tiny(window, steps=6, size=512)
    big = estimator.estimate
    assert big.seconds_per_iter > 10 * small.seconds_per_iter
    assert big.peak_bytes > small.peak_bytes
    assert "peak memory about" in window.estimate_label.text()
    # The content picture's own shape, not a square: what the engine will really optimize.
    h, w = window.content_picker.image_array().shape[:2]
    s = window.model.settings
    cal = estimator.calibrations["cpu"]
    assert h != w
    wide = planner.estimate(s, "cpu", cal, min(h, w) / max(h, w))
    square = planner.estimate(s, "cpu", cal)
    assert (big.seconds_per_iter, big.peak_bytes) == (wide.seconds_per_iter, wide.peak_bytes)
    assert big.seconds_per_iter < square.seconds_per_iter


def test_the_estimate_shows_the_plan_of_a_print_size(qtbot, window):
    """A size beyond the memory ceiling is made in tiles: the line says how, without alarm."""
    estimator = window.estimator
    qtbot.waitUntil(lambda: estimator.calibrations.get("cpu") is not None, timeout=60_000)
    _tiny(window, steps=6, size=4096, max_memory="1GB")
    text = window.estimate_label.text()
    assert "tiles of up to" in text and "of 1.0 GB" in text, text
    _tiny(window, steps=6, size=4096, max_memory="256MB")
    assert "raise the memory ceiling" in window.estimate_label.text()


@pytest.mark.parametrize(
    "error, says",
    [
        (RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"), "The device ran out"),
        (MemoryError(), "The computer ran out"),  # the host's memory, raised by numpy or Pillow
    ],
)
def test_out_of_memory_offers_a_smaller_size(qtbot, window, monkeypatch, error, says):
    from nst_desktop.core import planner

    monkeypatch.setattr(planner, "largest_fitting_size", lambda s, d, aspect=1.0: 4000)
    _tiny(window, steps=6, size=1024)
    real_run = optimize.run

    def oom(settings, *args, **kwargs):
        if settings.size == 1024:
            raise error
        yield from real_run(dataclasses.replace(settings, size=32), *args, **kwargs)

    monkeypatch.setattr(optimize, "run", oom)
    assert window.start_run()
    _wait_idle(qtbot, window)
    bar = window.message_bar
    assert bar.text().startswith(says) and "out of memory" in bar.text()
    assert bar.action_button.text() == "Retry at 768 px"
    bar.action_button.click()
    assert window.model.settings.size == 768
    _wait_idle(qtbot, window)
    assert _outcome(window).status == "done"


def test_a_device_that_stops_working_offers_the_cpu(qtbot, window, monkeypatch):
    from nst_desktop.core.model import VGGFeatures

    _tiny(window, steps=6, device="auto")
    real_forward = VGGFeatures.forward
    calls = []

    def forward(self, image):  # the targets' passes, two evaluations, then the GPU is gone
        calls.append(1)
        if len(calls) > 4 and window.model.settings.device != "cpu":
            raise RuntimeError("CUDA error: unspecified launch failure")
        return real_forward(self, image)

    monkeypatch.setattr(VGGFeatures, "forward", forward)
    assert window.start_run()
    _wait_idle(qtbot, window)
    bar = window.message_bar
    assert bar.text().startswith("The device stopped working (CUDA error: unspecified launch")
    assert window.model.picture.image is not None  # the picture so far stays
    assert bar.action_button.text() == "Run again on the CPU"
    bar.action_button.click()
    assert window.model.settings.device == "cpu"
    _wait_idle(qtbot, window)
    assert _outcome(window).status == "done" and _outcome(window).iterations == 6


def test_a_device_gone_before_the_run_starts_offers_the_cpu(qtbot, window, monkeypatch):
    """The GPU fails while the network is moved onto it, before any record: no apology for a
    bug, the same sentence and button as mid-run."""
    _tiny(window, steps=6)
    real_run = optimize.run

    def gone(settings, *args, **kwargs):
        if settings.device != "cpu":
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        yield from real_run(settings, *args, **kwargs)

    monkeypatch.setattr(optimize, "run", gone)
    window.model.update_settings(device="auto")
    assert window.start_run()
    _wait_idle(qtbot, window)
    bar = window.message_bar
    assert bar.text() == (
        "The device stopped working (CUDA error: an illegal memory access was encountered) "
        "before the run began; choose the CPU as the device and start again."
    )
    assert not _outcome(window).unexpected
    assert window.progress_label.text() == "did not start"
    bar.action_button.click()
    _wait_idle(qtbot, window)
    assert _outcome(window).status == "done"


def test_time_left_weighs_each_scale_by_its_size(qtbot, window, monkeypatch):
    """The progress line's time left comes from the run's own stages (48 px after 34 px),
    at the pace measured from the first evaluation (weights and targets are not the pace)."""
    import nst_desktop.gui.progress as progress

    seen = []
    real = progress.remaining_seconds

    def spy(stages, step, elapsed, since):
        seen.append(([s.size for s in stages], step))
        assert since[0] == 1  # the pace counts from the first evaluation, not the targets
        return real(stages, step, elapsed, since=since)

    monkeypatch.setattr(progress, "remaining_seconds", spy)
    _tiny(window, steps=4, size=48, scales=2, coarse_steps=3)
    assert window.start_run()
    _wait_idle(qtbot, window)
    assert _outcome(window).status == "done"
    assert {tuple(sizes) for sizes, _ in seen} == {(34, 48)}
    assert [step for _, step in seen] == list(range(1, 8))


def test_snapshots_every_n_iterations(qtbot, window):
    _tiny(window, steps=6, save_every=2)
    assert window.start_run()
    folder = window.runs.thread.snapshots.folder
    _wait_idle(qtbot, window)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["step_00002.png", "step_00004.png", "step_00006.png"]
    assert read_metadata(folder / names[0])["settings"]["save_every"] == 2


def test_a_device_that_is_not_there_is_one_sentence(qtbot, window):
    window.model.update_settings(device="cuda:7")
    assert window.start_run()  # the device is resolved in the worker, where torch lives
    _wait_idle(qtbot, window)
    text = window.message_bar.text()
    assert text.startswith("There is no CUDA device cuda:7 here; choose one of:")
    assert window.run_button.isEnabled() and running_threads() == []


def test_a_pictures_settings_follow_the_same_rule_as_the_command_line(
    window, tmp_path, monkeypatch
):
    """core.session.settings_from_picture: the window's mode, this computer's device, threads
    and weights, and a file the picture names only if the user says so (here: No); blend
    weights when the styles match."""
    from nst_desktop.core.images import save_image

    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No),
    )

    picture = tmp_path / "sent.png"
    Image.new("RGB", (8, 8)).save(tmp_path / "b.png")
    window.style_picker.add_path(str(tmp_path / "b.png"))
    block = {"mode": "style-rep", "weights": "/somewhere/evil.pth", "device": "cuda:3",
             "threads": 99, "init": "/etc/passwd", "seed": 12, "style_blend": [1, 3]}  # fmt: skip
    save_image(np.zeros((8, 8, 3), np.uint8), picture, metadata={"settings": block})
    assert window.load_settings_from(str(picture))
    s = window.model.settings
    assert (s.mode, s.weights, s.device, s.threads) == ("transfer", "random", "auto", 0)
    assert s.init == "noise" and s.seed == 12
    assert [w for _, w in window.style_picker.entries()] == [1.0, 3.0]
    assert "passwd" in window.message_bar.text() and "not used" in window.message_bar.text()
    assert len(asked) == 1 and "/etc/passwd" in asked[0]


def test_file_names_are_shown_as_text_not_markup(window, tmp_path):
    """A file name is not HTML: '<img src=...>' in a name must not make a label load a file."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    odd = tmp_path / "<img src='secret.png'>.png"
    Image.new("RGB", (20, 16), (200, 10, 10)).save(odd)
    window.content_picker.set_path(str(odd))
    caption = window.findChild(QLabel, "pictureCaption")
    assert caption.text() == f"Photo · {odd.name}"
    (tmp_path / "bad <b>x.png").write_bytes(b"not a picture")
    window.content_picker.set_path(str(tmp_path / "bad <b>x.png"))
    assert "bad <b>x.png" in window.message_bar.text()
    for label in (caption, window.message_bar.label, window.status_label):
        assert label.textFormat() == Qt.TextFormat.PlainText
