"""First use without weights: the dialog downloads, fails clearly, or takes a file."""

from __future__ import annotations

import hashlib

import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from nst_desktop.core.weights import features_state, hub_checkpoint_path, load_random
from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.weights_dialog import WeightsDialog

PAYLOAD = bytes(range(256)) * 8_000  # 2 MB: a few chunks, so progress is reported


@pytest.fixture
def dialog(qtbot):
    d = WeightsDialog()
    qtbot.addWidget(d)
    return d


def test_download_shows_progress_and_chooses_torchvision(qtbot, dialog, serve_files):
    srv = serve_files({"/vgg.pth": PAYLOAD})
    dialog.url = srv.url + "/vgg.pth"
    dialog.hash_prefix = hashlib.sha256(PAYLOAD).hexdigest()[:8]
    dialog.start_download()
    assert not dialog.bar.isHidden() and not dialog.download_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.choice is not None, timeout=20_000)
    assert dialog.choice == "torchvision"
    assert hub_checkpoint_path().read_bytes() == PAYLOAD
    assert dialog.bar.maximum() == len(PAYLOAD) >> 10


def test_no_network_says_so_and_offers_a_file(qtbot, dialog, serve_files):
    srv = serve_files({})
    dialog.url = srv.url + "/missing.pth"  # 404
    dialog.start_download()
    qtbot.waitUntil(lambda: not dialog.downloading, timeout=20_000)
    text = dialog.message.text()
    assert text.startswith("The download failed (") and "Choose file" in text
    assert text.count(". ") <= 2 and "Traceback" not in text
    assert dialog.choice is None and dialog.choose_button.isEnabled()
    assert not hub_checkpoint_path().exists()
    assert str(hub_checkpoint_path()) in dialog.where.text()


def test_wrong_hash_keeps_nothing(qtbot, dialog, serve_files):
    srv = serve_files({"/vgg.pth": PAYLOAD})
    dialog.url = srv.url + "/vgg.pth"
    dialog.hash_prefix = "00000000"
    dialog.start_download()
    qtbot.waitUntil(lambda: not dialog.downloading, timeout=20_000)
    assert "damaged" in dialog.message.text() and dialog.choice is None
    assert list(hub_checkpoint_path().parent.iterdir()) == []


def test_cancel_during_download_keeps_nothing(qtbot, dialog, serve_files):
    srv = serve_files({"/short/vgg.pth": PAYLOAD * 20})
    dialog.url = srv.url + "/vgg.pth"
    dialog.start_download()
    dialog.reject()  # the window's close button / Escape
    assert not dialog.downloading and dialog.choice is None
    assert not hub_checkpoint_path().exists()


def test_choose_file_checks_it_first(qtbot, dialog, monkeypatch, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not weights")
    good = tmp_path / "good.pth"
    torch.save(features_state(load_random(0).features.state_dict(), "x"), good)
    picks = [str(bad), str(good)]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (picks.pop(0), ""))
    )
    dialog.choose_file()
    assert dialog.choice is None and "bad.pth" in dialog.message.text()
    dialog.choose_file()
    assert dialog.choice == str(good)


def test_a_run_never_starts_with_weights_the_user_did_not_choose(qtbot, tmp_path, monkeypatch):
    qs = QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=60_000)
    w.model.update_settings(size=32, steps=2)
    assert w.model.settings.weights == "torchvision"
    shown = []

    def closed(self):
        shown.append(self)
        return 0

    monkeypatch.setattr(WeightsDialog, "exec", closed)
    assert w.start_run() is False and w.runs.thread is None
    assert shown and "No weights chosen" in w.status_label.text()

    def pick_random(self):
        self.choice = "random"
        return 1

    monkeypatch.setattr(WeightsDialog, "exec", pick_random)
    assert w.start_run()
    assert w.settings_panel.knobs["weights"].get() == "random"
    qtbot.waitUntil(lambda: w.model.run_state == "idle", timeout=60_000)
    assert w.model.runs.last_result.status == "done"
    assert "untrained" in w.model.runs.last_result.metadata["weights"]


def test_the_caffe_vgg19_is_one_more_choice_with_its_sentence(qtbot, dialog, serve_files):
    from nst_desktop.core.weights import PUBLISHED

    assert dialog.source == "torchvision"
    dialog.network.setCurrentIndex(dialog.network.findData("caffe"))
    assert "neural-style used" in dialog.about.text()
    assert dialog.url == PUBLISHED["caffe"].url
    assert str(hub_checkpoint_path("caffe")) in dialog.where.text()
    srv = serve_files({"/caffe.pth": PAYLOAD})
    dialog.url = srv.url + "/caffe.pth"
    dialog.hash_prefix = hashlib.sha256(PAYLOAD).hexdigest()[:8]
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.choice is not None, timeout=20_000)
    assert dialog.choice == "caffe"
    assert hub_checkpoint_path("caffe").read_bytes() == PAYLOAD
    assert not hub_checkpoint_path().exists()


def test_a_run_with_the_caffe_vgg19_missing_asks_for_it(qtbot, tmp_path, monkeypatch):
    qs = QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=60_000)
    w.model.update_settings(size=32, steps=2, weights="caffe")
    offered = []

    def closed(self):
        offered.append(self.source)
        return 0

    monkeypatch.setattr(WeightsDialog, "exec", closed)
    assert w.start_run() is False and w.runs.thread is None
    assert offered == ["caffe"]


def test_the_dialog_shows_the_address_and_the_folder_copyably(qtbot):
    from nst_desktop.core.weights import PUBLISHED, hub_checkpoint_path
    from nst_desktop.gui.weights_dialog import WeightsDialog

    dialog = WeightsDialog(None, "torchvision")
    qtbot.addWidget(dialog)
    assert dialog.url_field.text() == PUBLISHED["torchvision"].url
    assert dialog.folder_field.text() == str(hub_checkpoint_path().parent)
    assert dialog.url_field.isReadOnly() and dialog.folder_field.isReadOnly()
    dialog.url_field.selectAll()
    assert dialog.url_field.selectedText() == PUBLISHED["torchvision"].url  # copyable
    dialog.network.setCurrentIndex(dialog.network.findData("caffe"))
    assert dialog.url_field.text() == PUBLISHED["caffe"].url
