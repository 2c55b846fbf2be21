"""The Print tier offers print formats and a pixel size and shows the plan; the memory ceiling is
a setting; a tiled run draws its tile on the picture while it refines and clears it at the end."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from nst_desktop.core.failures import RunStatus
from nst_desktop.core.quality import PRINT_FORMATS, quality_of
from nst_desktop.core.tiles import plan_tiles
from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.picture import PictureKind

RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def window(qtbot, tmp_path):
    y, x = np.mgrid[0:72, 0:96]
    content = np.stack([x * 2, y * 3, x + y], -1).clip(0, 255).astype(np.uint8)
    style = np.random.default_rng(1).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    cpath, spath = tmp_path / "photo.png", tmp_path / "art.png"
    Image.fromarray(content).save(cpath)
    Image.fromarray(style).save(spath)
    w = MainWindow(QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.content_picker.set_path(str(cpath))
    w.style_picker.set_entries([(str(spath), 1.0)])
    w.model.update_settings(weights="random", device="cpu")
    yield w
    w.close()


def test_print_offers_formats_and_a_pixel_size_and_shows_the_plan(qtbot, window):
    m, basic = window.model, window.basic_panel
    window.findChild(type(basic.quality_group.button(0)), "quality_print").click()
    size = basic.print_size
    assert not size.isHidden() and m.settings.size == 1024
    a4 = size.formats.findData(PRINT_FORMATS["a4"][1])
    size.formats.setCurrentIndex(a4)
    size.formats.activated.emit(a4)
    assert m.settings.size == 3508 and quality_of(m.settings) == "print"
    assert "A4 at 300 dpi (3508 px)" in basic.quality_note.text()
    size.pixels.setValue(2000)
    assert m.settings.size == 2000 and size.formats.currentData() == 0  # "Pixel size"
    assert basic.quality_group.checkedButton().objectName() == "quality_print"
    # the memory ceiling lives in the Advanced settings; text that is no size is one sentence
    ceiling = window.settings_panel.knobs["max_memory"].widget
    ceiling.setText("lots")
    ceiling.editingFinished.emit()
    assert m.settings.max_memory == "lots" and window.start_run() is False
    assert m.message.text == "Memory size 'lots' is not a size; write it like 3GB, 1.5GB or 800MB."
    # a small ceiling makes the plan tile
    ceiling.setText("1GB")
    ceiling.editingFinished.emit()
    assert m.settings.max_memory == "1GB"
    qtbot.waitUntil(lambda: "tiles of up to" in size.plan.text(), timeout=RUN_TIMEOUT_MS)
    assert "peak memory about" in size.plan.text() and "of 1.0 GB" in size.plan.text()
    assert "tiles of up to" in m.estimate.text
    window.findChild(type(basic.quality_group.button(0)), "quality_preview").click()
    assert m.settings.size == 256 and size.isHidden()


def test_a_tiled_run_shows_its_tile_while_it_refines_and_none_after(qtbot, window):
    m = window.model
    m.update_settings(
        size=64, steps=2, coarse_steps=1, tile=48, optimizer="adam", precision="float32"
    )
    overlay = window.tile_overlay
    drawn: list[bool] = []

    def look() -> None:
        if m.tiles.current is None or any(drawn):
            return
        image = overlay.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
        rgba = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
        r, g, b = (rgba[:, : image.width(), i].astype(int) for i in range(3))
        drawn.append(bool(((r > 200) & (g > 150) & (g < 230) & (b < 60)).any()))  # the yellow

    m.tiles.changed.connect(look)
    assert window.start_run()
    qtbot.waitUntil(lambda: m.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    assert m.runs.last_result.status == RunStatus.DONE
    assert any(drawn), "no tile rectangle was drawn during the run"
    assert len(m.tiles.done) == 0 and m.tiles.current is None and not m.tiles.shown


def test_a_tiled_runs_progress_counts_its_tiles_to_the_end(qtbot, window):
    """The live line names the tile and sweep, its fraction ends exactly at the last tile's last
    step, and its time left is counted over the tiles (not over the scales of an untiled run,
    which end long before the tiles do)."""
    m = window.model
    m.update_settings(
        size=96, steps=1, coarse_steps=1, scales=2, tile=64, tile_sweeps=2,
        optimizer="adam", precision="float32",
    )  # fmt: skip
    tiled = plan_tiles(m.settings, (96, 72), None)
    assert tiled is not None and len(tiled.tiled[0].boxes) == 4
    total = tiled.total_steps  # 1 whole + 4 tiles x 2 sweeps x 1 step
    lines: list[tuple[str, int, int, str]] = []
    m.progressChanged.connect(
        lambda line: (
            lines.append((line.text, line.value, line.maximum, window.windowTitle()))
            if m.picture.kind == PictureKind.LIVE and line.maximum > 0
            else None
        )
    )
    assert window.start_run()
    qtbot.waitUntil(lambda: m.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    assert m.runs.last_result.status == RunStatus.DONE
    assert {maximum for _, _, maximum, _ in lines} == {total}
    named = [text for text, *_ in lines if text.startswith("tile ")]
    assert any(t.startswith("tile 1/4, sweep 1/2 (96 px) · ") for t in named), named
    assert any(t.startswith("tile 4/4, sweep 2/2 (96 px) · ") for t in named), named
    ended = [i for i, (_, value, maximum, _) in enumerate(lines) if value == maximum]
    assert ended == [len(lines) - 1], lines[-2:]  # the fraction is whole only at the very end
    text, _, _, title = lines[-1]
    assert text.startswith(f"tile 4/4, sweep 2/2 (96 px) · {total} / {total}")
    assert title.startswith("100 % · ")
    left = [text for text, value, maximum, _ in lines if value < maximum and " left" in text]
    assert len(left) >= total - 3, lines  # a time left from the second timed step on
    assert not [t for t in left if "· 0 s left" in t], left  # no tile is promised done early
