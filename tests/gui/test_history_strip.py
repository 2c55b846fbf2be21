"""The history strip: runs appear live, a click shows a result with its curve and settings, and
*Use these settings* brings back the settings and every input, naming what is gone."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMargins, QPoint, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from nst_desktop.core import history_record as hr
from nst_desktop.core.history import History, input_files
from nst_desktop.gui.main_window import MainWindow

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(4)
    paths = {}
    for name in ("photo", "art1", "art2"):
        paths[name] = tmp_path / f"{name}.png"
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(paths[name])
    return paths


def _entry(
    images,
    seed: int = 3,
    created: float | None = None,
    style_weight: float = 7.0,
    colour: tuple[int, int, int] = (200, 30, 60),
) -> hr.Entry:
    """A run of photo with art1:art2 at 3:1, as the session would keep it."""
    files = input_files(images["photo"], [(images["art1"], 3.0), (images["art2"], 1.0)])
    curve = [[s, 10.0 / s, 1.0, 9.0 / s, 0.1] for s in range(1, 9)]
    record = {
        "status": "done", "iterations": 8, "source": "window", "seconds": 1.0,
        "settings": {"mode": "transfer", "seed": seed, "steps": 8, "style_weight": style_weight},
        "inputs": [f.to_dict() for f in files],
    }  # fmt: skip
    pixels = np.full((30, 40, 3), colour, np.uint8)
    return History().add(pixels, record, curve=curve, created=created)


def _window(qtbot, tmp_path, *, engine: bool = False) -> MainWindow:
    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs, load_engine=engine)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.model.history.loaded, timeout=10_000)
    return w


def _click(qtbot, w: MainWindow, entry_id: str, ctrl: bool = False) -> None:
    strip = w.history_strip
    item = strip.item_for(entry_id)
    strip.list.scrollToItem(item)
    rect = strip.list.visualItemRect(item)
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(strip.list.viewport(), Qt.MouseButton.LeftButton, mods, rect.center())


def test_runs_appear_live_newest_first(qtbot, tmp_path, images):
    w = _window(qtbot, tmp_path, engine=True)
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.model.set_content(str(images["photo"]))
    w.model.set_styles([(str(images["art1"]), 1.0)])
    w.model.update_settings(weights="random", size=32, steps=3)
    ids = []
    for seed in (1, 2):
        w.model.update_settings(seed=seed)
        assert w.start_run()
        qtbot.waitUntil(lambda: w.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)
        ids.insert(0, w.model.runs.last_result.history_id)
        strip = w.history_strip.list
        assert [strip.item(r).data(Qt.ItemDataRole.UserRole) for r in range(strip.count())] == ids
    qtbot.waitUntil(lambda: w.history_strip.thumbs_pending == 0)  # both are in view
    assert not w.history_strip.list.item(0).icon().isNull()
    assert "2 runs" in w.history_strip.usage.text() and "MB" in w.history_strip.usage.text()
    w.close()


def test_a_click_shows_the_result_with_its_curve_and_settings(qtbot, tmp_path, images):
    older = _entry(images, seed=1, created=1_700_000_000)
    newer = _entry(images, seed=2, created=1_700_000_100)
    w = _window(qtbot, tmp_path)
    assert [e.id for e in w.model.history.entries] == [newer.id, older.id]
    _click(qtbot, w, older.id)
    picture = w.model.picture
    assert picture.stored == older.id and picture.kind == "result"
    assert picture.image.shape == (30, 40, 3) and tuple(picture.image[0, 0]) == (200, 30, 60)
    assert w.loss_plot.point_count("total") == 8
    assert older.id in w.picture_area.caption.text()
    details = w.history_strip.details.text()
    assert "seed 1" in details and "art1.png ×3" in details and "art2.png ×1" in details
    enabled = {n for n, b in w.history_strip.buttons.items() if b.isEnabled()}
    assert enabled == set(w.history_strip.buttons) - {"Compare"}  # no other run chosen


def test_use_these_settings_restores_two_styles_at_3_to_1(qtbot, tmp_path, images):
    entry = _entry(images, seed=42)
    w = _window(qtbot, tmp_path)
    w.model.set_styles([(str(images["photo"]), 1.0)])
    _click(qtbot, w, entry.id)
    w.history_strip.buttons["Use these settings"].click()
    assert w.model.content_path == str(images["photo"])
    assert w.model.styles == [(str(images["art1"]), 3.0), (str(images["art2"]), 1.0)]
    assert w.model.settings.style_blend == [3.0, 1.0] and w.model.settings.seed == 42
    assert w.model.settings.style_weight == 7.0 and w.model.message is None
    assert w.style_picker.paths() == [str(images["art1"]), str(images["art2"])]
    w.history_strip.buttons["Continue from this"].click()
    assert w.model.settings.init == str(entry.result)


def test_a_missing_input_is_named_and_one_beside_the_result_is_found(qtbot, tmp_path, images):
    entry = _entry(images)
    shutil.copy(images["art2"], entry.folder / "art2.png")  # beside the result
    images["art2"].unlink()
    images["art1"].unlink()
    w = _window(qtbot, tmp_path)
    _click(qtbot, w, entry.id)
    w.history_strip.buttons["Use these settings"].click()
    message = w.model.message
    assert message is not None and message.kind == "warning"
    assert "style art1.png is missing" in message.text and "art2" not in message.text
    assert w.model.styles == [(str(entry.folder / "art2.png"), 1.0)]


def test_pin_delete_and_the_limit(qtbot, tmp_path, images, monkeypatch):
    entries = [_entry(images, seed=n, created=1_700_000_000 + n) for n in range(3)]
    w = _window(qtbot, tmp_path)
    strip = w.history_strip
    _click(qtbot, w, entries[0].id)
    strip.buttons["Pin"].click()
    assert History().get(entries[0].id).pinned and strip.buttons["Pin"].text() == "Unpin"
    strip.keep.setValue(1)  # the oldest is pinned: the middle one goes
    assert [e.id for e in History().entries()] == [entries[2].id, entries[0].id]
    assert strip.list.count() == 2 and History().limits().max_entries == 1
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    strip.buttons["Delete"].click()
    assert [e.id for e in History().entries()] == [entries[2].id] and strip.list.count() == 1
    assert w.model.history.selected is None and not strip.buttons["Delete"].isEnabled()


def test_runs_of_the_same_minute_are_told_apart_by_their_seconds(
    qtbot, tmp_path, images, monkeypatch
):
    minute = 1_700_000_040  # a whole minute in every time zone
    lone = _entry(images, seed=1, created=minute - 120)
    first = _entry(images, seed=2, created=minute + 5)
    second = _entry(images, seed=3, created=minute + 30)
    w = _window(qtbot, tmp_path)
    strip = w.history_strip

    def caption(entry) -> str:
        return strip.item_for(entry.id).text()

    def clock(entry, fmt: str) -> str:
        return time.strftime(fmt, time.localtime(entry.created))

    assert caption(first) == clock(first, "%H:%M:%S") != caption(second)
    assert caption(second) == clock(second, "%H:%M:%S")
    assert caption(lone) == clock(lone, "%H:%M")  # alone in its minute: no seconds
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    _click(qtbot, w, second.id)
    strip.buttons["Delete"].click()
    assert caption(first) == clock(first, "%H:%M")  # alone again


def test_the_strips_buttons_show_whole_at_the_windows_smallest(qtbot, tmp_path, images):
    entry = _entry(images)
    w = _window(qtbot, tmp_path)
    _click(qtbot, w, entry.id)
    strip = w.history_strip
    wide = w.minimumSize().grownBy(QMargins(0, 0, 700, 0))
    for size, one_row in ((w.minimumSize(), False), (wide, True)):
        w.resize(size)
        qtbot.waitUntil(lambda s=size: w.size() == s)
        qtbot.wait(50)  # the layouts settle
        assert (strip.actions.layout().rows() == 1) == one_row  # wrapped only where narrow
        for name, button in strip.buttons.items():
            box = button.geometry().translated(button.parentWidget().mapTo(strip, QPoint(0, 0)))
            assert button.isVisible() and button.width() >= button.sizeHint().width(), name
            assert strip.rect().contains(box), (name, box, strip.rect())


def test_a_damaged_entry_is_a_warning_not_a_crash(qtbot, tmp_path, images):
    good = _entry(images, created=1_700_000_000)
    bad = _entry(images, created=1_700_000_100)
    (bad.folder / hr.RECORD_NAME).write_text("{")
    w = _window(qtbot, tmp_path)
    assert [e.id for e in w.model.history.entries] == [good.id]
    assert "was skipped" in w.model.message.text and w.model.message.kind == "warning"


def test_500_entries_load_lazily(qtbot, tmp_path, images):
    first = _entry(images)
    data = json.loads((first.folder / hr.RECORD_NAME).read_text())
    for n in range(1, 500):
        copy = first.folder.with_name(f"20200101-000000-{n:06d}")
        shutil.copytree(first.folder, copy)
        data["created"] = 1_600_000_000 + n
        (copy / hr.RECORD_NAME).write_text(json.dumps(data))
    w = _window(qtbot, tmp_path)
    strip = w.history_strip
    assert strip.list.count() == 500
    qtbot.waitUntil(lambda: not strip.thumbs_busy, timeout=30_000)
    assert 0 < 500 - strip.thumbs_pending < 40  # only the thumbnails in view are read
    assert not strip.list.item(0).icon().isNull() and strip.list.item(499).icon().isNull()
    strip.list.scrollToItem(strip.list.item(499))
    qtbot.waitUntil(lambda: not strip.list.item(499).icon().isNull(), timeout=10_000)


def test_compare_two_runs_and_a_run_with_its_photo(qtbot, tmp_path, images):
    first = _entry(images, seed=1, created=1_700_000_000, style_weight=50)
    second = _entry(images, seed=2, created=1_700_000_100, style_weight=100)
    w = _window(qtbot, tmp_path)
    strip = w.history_strip
    _click(qtbot, w, first.id)
    assert not strip.buttons["Compare"].isEnabled()  # nothing shown before it yet
    _click(qtbot, w, second.id)
    assert strip.buttons["Compare"].isEnabled() and first.id in strip.buttons["Compare"].toolTip()
    strip.buttons["Compare"].click()
    view = w.compare_view
    assert view.isVisible()
    diffs = [view.differences.item(r).text() for r in range(view.differences.count())]
    assert diffs == ["Seed 1 → 2", "Style weight 50 → 100"]
    assert view.split.compare() and view.split.current_image().shape == (30, 40, 3)
    t1, t2 = (time.strftime("%H:%M", time.localtime(e.created)) for e in (first, second))
    assert t1 != t2  # a minute apart: no seconds
    # Each side: its time and the first setting that tells them apart (the seed only last).
    left, right = f"{t1} · style weight 50", f"{t2} · style weight 100"
    assert view.split.split_labels == (left, right)
    assert (view.left_caption.text(), view.right_caption.text()) == (left, right)
    assert view.caption.text() == f"Left: run of {t1} · Right: run of {t2}"
    view.side_button.click()
    assert view.stack.currentIndex() == 1
    strip.buttons["With photo"].click()
    photo = np.asarray(Image.open(images["photo"]).convert("RGB"))
    assert np.array_equal(w.model.history.comparison.left, photo)
    assert view.split.split_labels == ("Photo", "Result") and view.differences.count() == 1
    assert (view.left_caption.text(), view.right_caption.text()) == ("Photo", "Result")
    assert view.caption.text() == f"Left: the photo photo.png · Right: run of {t2}"
    view.close()


def test_compare_any_two_runs_chosen_by_ctrl_click_or_the_menu(qtbot, tmp_path, images):
    colours = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0)]
    runs = [
        _entry(images, seed=n, created=1_700_000_000 + n, style_weight=25 * 2**n, colour=c)
        for n, c in enumerate(colours)
    ]
    w = _window(qtbot, tmp_path)
    strip, view = w.history_strip, w.compare_view
    _click(qtbot, w, runs[3].id)
    _click(qtbot, w, runs[2].id)  # shown before: the default partner
    _click(qtbot, w, runs[0].id, ctrl=True)  # not adjacent to the run shown: chosen instead
    assert w.model.history.selected.id == runs[2].id and w.model.picture.stored == runs[2].id
    assert strip.item_for(runs[0].id).text().startswith("⇆")
    assert not strip.item_for(runs[3].id).text().startswith("⇆")
    assert runs[0].id in strip.buttons["Compare"].toolTip()
    strip.buttons["Compare"].click()
    assert view.isVisible()
    left, right = w.model.history.comparison.left, w.model.history.comparison.right
    assert tuple(left[5, 5]) == colours[0] and tuple(right[5, 5]) == colours[2]
    assert tuple(view.left.current_image()[5, 5]) == colours[0]
    assert tuple(view.right.current_image()[5, 5]) == colours[2]
    diffs = [view.differences.item(r).text() for r in range(view.differences.count())]
    assert diffs == ["Seed 0 → 2", "Style weight 25 → 100"]
    t0, t2 = (time.strftime("%H:%M:%S", time.localtime(r.created)) for r in (runs[0], runs[2]))
    assert view.left_caption.text() == f"{t0} · style weight 25"  # same minute: seconds
    assert view.right_caption.text() == f"{t2} · style weight 100"
    menu = strip.menu_for(runs[1].id)  # right-click on another run
    actions = {a.text(): a for a in menu.actions()}
    actions[f"Compare with the run shown ({runs[2].id})"].trigger()
    assert tuple(view.left.current_image()[5, 5]) == colours[1]
    diffs = [view.differences.item(r).text() for r in range(view.differences.count())]
    assert diffs == ["Seed 1 → 2", "Style weight 50 → 100"]
    _click(qtbot, w, runs[3].id)  # the run chosen stays chosen while another is shown
    assert w.model.history.previous.id == runs[0].id
    strip.buttons["Compare"].click()
    assert tuple(view.left.current_image()[5, 5]) == colours[0]
    assert tuple(view.right.current_image()[5, 5]) == colours[3]
    _click(qtbot, w, runs[0].id)  # showing the chosen run itself: the one shown before is the other
    assert w.model.history.previous.id == runs[3].id
    strip.menu_for(runs[3].id).actions()[-1].trigger()  # with its photo
    t3 = time.strftime("%H:%M", time.localtime(runs[3].created))
    assert view.left_caption.text() == "Photo" and view.caption.text().endswith(f"run of {t3}")
    assert not strip.menu_for(runs[0].id).actions()[1].isEnabled()  # the run shown itself
    view.close()


def test_load_settings_from_image_brings_back_both_styles_verified(qtbot, tmp_path, images):
    from nst_desktop.core.images import save_image

    files = input_files(images["photo"], [(images["art1"], 3.0), (images["art2"], 1.0)])
    made = tmp_path / "made.png"
    meta = {"settings": {"mode": "transfer", "seed": 9, "style_blend": [3.0, 1.0]},
            "files": [f.to_dict() for f in files]}  # fmt: skip
    save_image(np.zeros((8, 8, 3), np.uint8), made, metadata=meta)
    w = _window(qtbot, tmp_path)
    w.model.set_styles([(str(images["photo"]), 1.0)])
    assert w.load_settings_from(str(made))
    assert w.model.styles == [(str(images["art1"]), 3.0), (str(images["art2"]), 1.0)]
    assert w.model.settings.seed == 9 and w.model.message is None
    Image.new("RGB", (30, 40), (1, 2, 3)).save(images["art2"])  # no longer the picture it was
    w.model.set_styles([(str(images["photo"]), 1.0)])
    assert w.load_settings_from(str(made))
    assert "style art2.png" in w.model.message.text and "art1" not in w.model.message.text
    assert w.model.styles == [(str(images["photo"]), 1.0)]  # a blend of one is not the blend
