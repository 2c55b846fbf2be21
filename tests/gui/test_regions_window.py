"""The region tool in the real window, offscreen: paint with synthesized mouse events, run on
random weights at 32 px, and keep the regions across a restart."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QSettings, Qt

from nst_desktop.core.images import read_metadata
from nst_desktop.gui import window_state
from nst_desktop.gui.main_window import MainWindow

RUN_TIMEOUT_MS = 120_000
FAST = dict(
    weights="random",
    size=32,
    steps=15,
    init="content",
    content_layers={"relu2_1": 1.0},
    style_layers={"relu1_1": 1.0, "relu2_1": 1.0},
)


@pytest.fixture
def images(tmp_path):
    y, x = np.mgrid[0:36, 0:48]
    g = (110 + 30 * np.sin(x * 0.4) + 20 * np.cos(y * 0.3)).astype(np.uint8)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.stack([g, g, g], -1)).save(photo)
    rng = np.random.default_rng(0)
    red = tmp_path / "red.png"
    arr = np.asarray((220, 30, 30), float) + rng.normal(0, 25, (32, 32, 1))
    Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(red)
    return str(photo), str(red)


@pytest.fixture
def qs(tmp_path):
    return QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)


def _open(qtbot, qs) -> MainWindow:
    w = MainWindow(qs)
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    return w


def _paint_left_half(qtbot, window: MainWindow) -> None:
    """Brush strokes over the left half of the picture with the left button held."""
    overlay = window.region_overlay
    regions = window.model.regions
    window.region_panel.size_slider.setValue(7)
    window.region_panel.soft_slider.setValue(0)
    qtbot.mouseClick(window.region_panel.paint_button, Qt.MouseButton.LeftButton)
    assert regions.painting and overlay.isVisible()
    rect = window.preview.image_rect()
    assert rect.width() > 50, rect
    for v in np.linspace(0.0, 1.0, 13):
        y = round(rect.top() + v * rect.height())
        start = QPoint(round(rect.left() + 0.02 * rect.width()), y)
        qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=start)
        for u in np.linspace(0.02, 0.38, 8):
            qtbot.mouseMove(overlay, QPoint(round(rect.left() + u * rect.width()), y))
        qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=QPoint(
            round(rect.left() + 0.38 * rect.width()), y))  # fmt: skip


def test_paint_a_region_run_and_the_style_stays_inside(qtbot, qs, images):
    w = _open(qtbot, qs)
    w.content_picker.set_path(images[0])
    w.style_picker.set_entries([(images[1], 1.0)])
    w.model.update_settings(**FAST)
    w.tabs.setCurrentWidget(w.tabs.widget(w.tabs.count() - 1))
    assert w.tabs.tabText(w.tabs.currentIndex()) == "Regions"
    w.region_panel.outside_combo.setCurrentIndex(w.region_panel.outside_combo.findData("keep"))
    w.region_panel.outside_combo.activated.emit(w.region_panel.outside_combo.currentIndex())
    assert w.model.regions.outside == "keep"
    _paint_left_half(qtbot, w)
    mask = w.model.regions.mask(0)
    assert mask is not None
    half = mask.shape[1] // 2
    assert mask[:, : int(half * 0.6)].mean() > 0.95 and mask[:, half + 4 :].max() == 0.0

    assert w.start_run()
    qtbot.waitUntil(lambda: w.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    result = w.model.runs.last_result
    assert result is not None and result.image is not None, result
    rgb = result.image.astype(np.float64)
    rb = rgb[..., 0] - rgb[..., 2]
    cols = rgb.shape[1]
    left, right = rb[:, : int(cols * 0.3)].mean(), rb[:, int(cols * 0.6) :].mean()
    assert left - right > 40 and abs(right) < 15, (left, right)
    assert [m["style"] for m in result.metadata["regions"]["masks"]] == [1]

    # The regions survive a restart (kept as PNGs in the data folder).
    w.close()
    again = _open(qtbot, qs)
    restored = again.model.regions.mask(0)
    assert restored is not None and np.abs(restored - mask).max() <= 1 / 255 + 1e-6
    assert again.model.regions.outside == "keep"
    again.close()


def test_picture_settings_restore_its_regions(qtbot, qs, images, tmp_path):
    from nst_desktop.core.images import save_image
    from nst_desktop.core.regions import Regions, encode_regions

    w = _open(qtbot, qs)
    w.content_picker.set_path(images[0])
    w.style_picker.set_entries([(images[1], 1.0)])
    m = np.zeros((30, 40), np.float32)
    m[:, 20:] = 1.0
    meta = {"settings": {"steps": 7}, "regions": encode_regions(Regions({0: m}, "keep"))}
    pic = save_image(np.zeros((8, 8, 3), np.uint8), tmp_path / "made.png", metadata=meta)
    assert read_metadata(pic) is not None
    assert w.model.load_picture_settings(str(pic))
    got = w.model.regions.mask(0)
    assert got is not None and got[:, :8].max() < 0.05 and got[:, -8:].min() > 0.95
    assert w.model.regions.outside == "keep" and w.model.settings.steps == 7
    w.close()


def test_damaged_stored_regions_are_skipped(qtbot, qs, images):
    w = _open(qtbot, qs)
    w.content_picker.set_path(images[0])
    w.style_picker.set_entries([(images[1], 1.0)])
    w.model.regions.set_active(0)
    assert w.model.regions.fill()
    w.close()
    folder = window_state.regions_dir()
    for png in folder.glob("region-*.png"):
        png.write_text("not a png")
    again = _open(qtbot, qs)
    assert again.model.regions.mask(0) is None  # skipped; the window opened
    again.close()
    qs.setValue("run/regions", '{"masks": [{"style": 3, "file": "../../etc/passwd"}], "x": [')
    third = _open(qtbot, qs)
    assert third.model.regions.masks() == {}
    third.close()


def test_loading_a_bad_mask_file_says_so_and_keeps_the_region(qtbot, tmp_path):
    from nst_desktop.gui.regions import RegionsModel

    regions = RegionsModel()
    regions.set_styles(["a.png"])
    regions.set_picture_size(64, 48)
    assert regions.fill()
    told: list[str] = []
    regions.message.connect(told.append)
    bad = tmp_path / "mask.png"
    bad.write_text("not an image")
    assert not regions.load(str(bad))
    assert told and "not loaded" in told[0] and "not a picture" in told[0]
    assert regions.mask(0).min() == 1.0  # unchanged
    good = tmp_path / "half.png"
    half = np.zeros((10, 20), np.uint8)
    half[:, 10:] = 255
    Image.fromarray(half).save(good)
    assert regions.load(str(good))
    m = regions.mask(0)
    assert m[:, :20].max() < 0.05 and m[:, -20:].min() > 0.95


def test_a_run_takes_a_copy_so_painting_during_it_applies_to_the_next():
    from nst_desktop.gui.regions import RegionsModel

    regions = RegionsModel()
    regions.set_styles(["a.png", "b.png"])
    regions.set_picture_size(64, 48)
    regions.set_tool("brush")
    assert regions.stroke([(0.2, 0.5), (0.3, 0.5)])
    taken = regions.snapshot()
    before = taken.masks[0].copy()
    regions.stroke([(0.8, 0.5)])  # painting while that run goes
    regions.set_active(1)
    regions.fill()
    assert np.array_equal(taken.masks[0], before) and list(taken.masks) == [0]
    assert list(regions.snapshot().masks) == [0, 1]
    regions.set_styles(["b.png"])  # a removed style takes its region with it
    assert list(regions.snapshot().masks) == [0] and regions.mask(0).min() == 1.0
