"""Image pickers: recent files, errors keep the old choice, file dialog, drag & drop."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

from nst_desktop.core.images import save_image
from nst_desktop.gui.image_picker import ContentPicker, RecentFiles, StylePicker


@pytest.fixture
def qs(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def images(tmp_path):
    out = {}
    for name, color in [("a", (255, 0, 0)), ("b", (0, 255, 0)), ("c", (0, 0, 255))]:
        p = tmp_path / f"{name}.png"
        Image.new("RGB", (40, 24), color).save(p)
        out[name] = str(p)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a picture")
    out["bad"] = str(bad)
    return out


@pytest.fixture
def content(qtbot, qs):
    w = ContentPicker(RecentFiles(qs, "recent"), qs)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def styles(qtbot, qs):
    w = StylePicker(RecentFiles(qs, "recent"), qs)
    qtbot.addWidget(w)
    return w


def drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    ev = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(ev)
    return ev


# --------------------------------------------------------------------------- RecentFiles
def test_recent_files_order_dedup_limit(qs, images):
    r = RecentFiles(qs, "k", limit=2)
    r.add(images["a"])
    r.add(images["b"])
    r.add(images["a"])
    assert r.paths() == [images["a"], images["b"]]
    r.add(images["c"])
    assert r.paths() == [images["c"], images["a"]]
    r.clear()
    assert r.paths() == []


@pytest.mark.parametrize(
    "garbage", [42, "", "no/such/file.png", [1, None, 2.5], {"a": 1}, ["\0x"], b"bytes"]
)
def test_recent_files_ignore_garbage(qs, images, garbage):
    qs.setValue("k", garbage)
    r = RecentFiles(qs, "k")
    assert r.paths() == []
    r.add(images["a"])
    assert r.paths() == [images["a"]]


def test_recent_files_survive_reload_and_missing(tmp_path, images):
    path = str(tmp_path / "s.ini")
    qs = QSettings(path, QSettings.Format.IniFormat)
    RecentFiles(qs, "k").add(images["a"])  # one element: INI reads it back as a plain string
    qs.sync()
    qs2 = QSettings(path, QSettings.Format.IniFormat)
    qs2.setValue("k2", [images["b"], 7, str(tmp_path / "gone.png")])
    assert RecentFiles(qs2, "k").paths() == [images["a"]]
    assert RecentFiles(qs2, "k2").paths() == [images["b"]]


# --------------------------------------------------------------------------- ContentPicker
def test_content_set_path_and_error_keeps_old(content, images, qtbot):
    with qtbot.waitSignal(content.changed) as sig:
        assert content.set_path(images["a"])
    assert sig.args == [images["a"]]
    assert content.path() == images["a"]
    arr = content.image_array()
    assert arr.shape == (24, 40, 3) and tuple(arr[0, 0]) == (255, 0, 0)

    changes = []
    content.changed.connect(changes.append)
    with qtbot.waitSignal(content.error) as err:
        assert not content.set_path(images["bad"])
    assert "broken.png" in err.args[0] and err.args[0].endswith(".")
    assert content.path() == images["a"]
    assert tuple(content.image_array()[0, 0]) == (255, 0, 0)
    assert changes == []


def test_content_browse_starts_in_last_folder(content, images, monkeypatch, qs, tmp_path):
    seen = {}

    def fake(parent, caption, start, filt):
        seen["start"] = start
        seen["filter"] = filt
        return images["b"], filt

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake))
    content.browse()
    assert content.path() == images["b"]
    assert "*.png" in seen["filter"]
    assert os.path.samefile(qs.value("pickers/last_folder"), tmp_path)
    # a fresh picker starts in the remembered folder
    other = ContentPicker(RecentFiles(qs, "recent"), qs)
    other.browse()
    assert os.path.samefile(seen["start"], tmp_path)
    other.deleteLater()


def test_content_browse_cancel_changes_nothing(content, images, monkeypatch):
    content.set_path(images["a"])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: ("", "")))
    content.browse()
    assert content.path() == images["a"]


def test_content_drop_uses_first_file(content, images):
    ev = drop(content, [images["c"], images["a"]])
    assert ev.isAccepted()
    assert content.path() == images["c"]
    assert content._recent.paths()[0] == images["c"]


def test_content_recent_menu_lists_files(content, images):
    content.set_path(images["a"])
    content.set_path(images["b"])
    content.menu.aboutToShow.emit()
    names = [a.text() for a in content.menu.actions() if a.text()]
    assert names[:2] == ["b.png", "a.png"]
    next(a for a in content.menu.actions() if a.text() == "a.png").trigger()
    assert content.path() == images["a"]


def test_drop_of_result_with_settings_emits_signal(content, styles, tmp_path, qtbot):
    result = tmp_path / "result.png"
    save_image(np.full((16, 16, 3), 90, np.uint8), result, metadata={"settings": {"steps": 5}})
    with qtbot.waitSignal(content.settingsDropped) as sig:
        drop(content, [str(result)])
    assert sig.args == [str(result)]
    assert content.path() == str(result)  # still usable as an image by default

    styles.use_settings_files_as_images = False
    with qtbot.waitSignal(styles.settingsDropped):
        drop(styles, [str(result)])
    assert styles.entries() == []


# --------------------------------------------------------------------------- StylePicker
def test_styles_entries_round_trip(styles, images, qtbot):
    want = [(images["a"], 1.0), (images["b"], 0.5), (images["c"], 2.25)]
    with qtbot.waitSignal(styles.changed):
        assert styles.set_entries(want)
    assert styles.entries() == want
    styles.set_entries([(images["c"], 3.0)])
    assert styles.entries() == [(images["c"], 3.0)]


def test_styles_bad_entry_reported_others_kept(styles, images, qtbot):
    errors = []
    styles.error.connect(errors.append)
    assert not styles.set_entries([(images["a"], 1.0), (images["bad"], 1.0), (images["b"], 4.0)])
    assert styles.entries() == [(images["a"], 1.0), (images["b"], 4.0)]
    assert len(errors) == 1 and "broken.png" in errors[0]


def test_styles_add_remove_weight_signals(styles, images, qtbot):
    with qtbot.waitSignal(styles.changed):
        assert styles.add_path(images["a"])
    assert not styles.add_path(images["a"])  # not twice
    styles.add_path(images["b"])
    row = styles._rows[0]
    assert row.weight.value() == 1.0 and row.weight.minimum() == 0 and row.weight.maximum() == 100
    with qtbot.waitSignal(styles.changed):
        row.weight.setValue(7.5)
    assert styles.entries()[0] == (images["a"], 7.5)
    with qtbot.waitSignal(styles.changed):
        row.remove.click()
    assert styles.entries() == [(images["b"], 1.0)]


def test_styles_drop_several_and_dialog(styles, images, monkeypatch, qtbot):
    with qtbot.waitSignal(styles.changed):
        drop(styles, [images["a"], images["bad"], images["b"]])
    assert styles.paths() == [images["a"], images["b"]]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *a: ([images["c"]], ""))
    )
    styles.browse()
    assert styles.paths() == [images["a"], images["b"], images["c"]]


def test_styles_weight_clamped(styles, images):
    styles.set_entries([(images["a"], 500.0), (images["b"], -2.0), (images["c"], float("nan"))])
    assert [w for _, w in styles.entries()] == [100.0, 0.0, 1.0]


def test_fit_name_keeps_names_whole_and_cuts_only_their_end(qapp):
    from PySide6.QtGui import QFont, QFontMetrics

    from nst_desktop.gui.picker_support import fit_name

    fm = QFontMetrics(QFont())
    name = "style_swirls.png"
    assert fit_name(name, fm, fm.horizontalAdvance(name)) == name  # fits: one line as it is
    two = fit_name(name, fm, fm.horizontalAdvance("style_swirls"))
    assert two == "style_\nswirls.png"  # wraps after "_", never before the extension
    long = "an_extraordinarily_long_name_of_a_painting_by_someone_famous.png"
    width = fm.horizontalAdvance("an_extraordinarily_lo")
    first, second = fit_name(long, fm, width).split("\n")
    assert first == "an_extraordinarily_" and second.endswith("…")
    assert long.startswith(first + second[:-1])  # nothing left out but the end
    assert max(fm.horizontalAdvance(first), fm.horizontalAdvance(second)) <= width
