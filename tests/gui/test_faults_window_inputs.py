"""Fault matrix, the window and the user's own files (issue 19): exporting over a picture the
run is made from asks first, and a picture's settings naming a file here use it only when the
user says so. See FAULTS.md.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from nst_desktop.core.images import read_metadata, save_image
from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.main_window import MainWindow

RUN_TIMEOUT_MS = 60_000
No, Yes = QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(3)
    photo, style = tmp_path / "photo.png", tmp_path / "art.png"
    Image.fromarray(rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)).save(photo)
    Image.fromarray(rng.integers(0, 255, (30, 30, 3), dtype=np.uint8)).save(style)
    return photo, style


def _answers(monkeypatch, answer):
    """Patch the question box: record each question, give ``answer``."""
    asked: list[str] = []

    def question(*args, **kwargs):
        asked.append(args[2])
        return answer

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


@pytest.mark.skipif(sys.platform == "win32", reason="links")
def test_exporting_over_a_picture_in_use_asks_first(qtbot, tmp_path, files, monkeypatch):
    """The photo itself, a hard link to it, or a style: the window asks in plain words and a
    No leaves the file untouched; Yes replaces it (the user's explicit choice)."""
    photo, style = files
    os.link(photo, tmp_path / "same.png")
    w = MainWindow(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.content_picker.set_path(str(photo))
    w.style_picker.set_entries([(str(style), 1.0)])
    w.model.update_settings(weights="random", size=32, steps=2)
    assert w.start_run()
    qtbot.waitUntil(lambda: w.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    original = photo.read_bytes()
    asked = _answers(monkeypatch, No)
    for target, link in ((photo, ""), (tmp_path / "same.png", " (photo.png)"), (style, "")):
        assert w.export(str(target)) is None
        assert asked[-1] == (
            f"{target.name} is one of the pictures this run is made from{link}. Replacing it "
            "destroys the original. Replace it anyway?"
        )
    assert photo.read_bytes() == original
    assert len(asked) == 3
    _answers(monkeypatch, Yes)
    assert w.export(str(photo)) == photo
    assert read_metadata(photo)["settings"]["steps"] == 2
    w.close()


def test_a_pictures_start_file_is_used_only_when_the_user_says_so(qtbot, tmp_path, files,
                                                                  monkeypatch):  # fmt: skip
    """A picture's settings naming a start image on this computer: the window asks; No keeps
    the start image as it was (with the warning), Yes uses the file; a file that is not here
    is not asked about."""
    photo, _ = files
    private = tmp_path / "private.png"
    Image.new("RGB", (20, 20), (9, 9, 9)).save(private)
    picture = tmp_path / "sent.png"
    pixels = np.zeros((16, 16, 3), np.uint8)
    save_image(pixels, picture, metadata={"settings": {"init": str(private), "seed": 7}})
    w = MainWindow(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat),
                   load_engine=False)  # fmt: skip
    qtbot.addWidget(w)
    asked = _answers(monkeypatch, No)
    assert w.load_settings_from(str(picture))
    assert asked == [
        f"The picture's settings start from this file on this computer:\n\n{private}\n\nA "
        "picture someone sent you could name any file here. Use this file as the start image?"
    ]
    assert w.model.settings.init == RunSettings().init and w.model.settings.seed == 7
    assert "its start picture (private.png) was not used" in w.message_bar.text()
    asked = _answers(monkeypatch, Yes)
    assert w.load_settings_from(str(picture))
    assert w.model.settings.init == str(private) and len(asked) == 1
    odd = tmp_path / "<img src=x.png>\r\nok.png"  # markup and a forged line in the name
    Image.new("RGB", (20, 20)).save(odd, format="PNG")
    save_image(pixels, picture, metadata={"settings": {"init": str(odd)}})
    asked = _answers(monkeypatch, No)
    assert w.load_settings_from(str(picture))
    first, _, shown, *_ = asked[0].split("\n")
    assert "<" not in first
    assert shown == f"{tmp_path}/<img src=x.png>\\r\\nok.png"
    gone = tmp_path / "gone.png"
    save_image(pixels, gone, metadata={"settings": {"init": str(tmp_path / "nope.png")}})
    w.model.update_settings(init="noise")
    asked = _answers(monkeypatch, Yes)
    assert w.load_settings_from(str(gone))
    assert asked == [] and w.model.settings.init == "noise"
