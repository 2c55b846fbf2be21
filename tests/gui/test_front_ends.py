"""The CLI and the window's run thread are two front ends over core.session: the same settings
give the same pixels, the same snapshot names and the same metadata."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEventLoop

from nst_desktop import cli
from nst_desktop.core.images import read_metadata
from nst_desktop.core.session import SnapshotTarget
from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.worker import RunJob, RunThread, WeightsCache


def _pictures(folder):
    folder.mkdir()
    rng = np.random.default_rng(11)
    Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(folder / "c.png")
    Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(folder / "s.png")
    Image.fromarray(rng.integers(0, 255, (20, 28, 3), dtype=np.uint8)).save(folder / "t.png")
    return folder / "c.png", [folder / "s.png", folder / "t.png"]


def _window_run(settings, content, styles, out):
    thread = RunThread(RunJob(settings, str(content), styles), WeightsCache())
    thread.snapshots = SnapshotTarget.beside(out)
    results = []
    thread.outcome.connect(results.append)
    loop = QEventLoop()
    thread.finished.connect(loop.quit)
    thread.start()
    loop.exec()
    thread.wait()
    QCoreApplication.processEvents()
    thread.deleteLater()
    return results[0]


def test_the_cli_and_the_window_make_the_same_run(qtbot, tmp_path):
    content, styles = _pictures(tmp_path / "in")
    options = {"size": 32, "steps": 5, "save_every": 2, "seed": 4, "tv_weight": 0.01}
    args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    cli_dir, gui_dir = tmp_path / "cli", tmp_path / "gui"
    cli_dir.mkdir()
    gui_dir.mkdir()
    code = cli.main(
        ["transfer", str(content), *map(str, styles), "-o", str(cli_dir / "out.png"), "-q",
         "--weights", "random", "--style-blend", "1,3", *args]
    )  # fmt: skip
    assert code == 0
    settings = RunSettings(weights="random", style_blend=[1.0, 3.0], **options)
    result = _window_run(settings, content, [(str(styles[0]), 1.0), (str(styles[1]), 3.0)],
                         gui_dir / "out.png")  # fmt: skip
    assert result.status == "done" and result.iterations == 5
    made = np.asarray(Image.open(cli_dir / "out.png").convert("RGB"))
    assert np.array_equal(made, result.image)
    names = sorted(p.name for p in cli_dir.iterdir())
    assert names == ["out.png", "out_00002.png", "out_00004.png"]
    assert sorted(p.name for p in gui_dir.iterdir()) == names[1:]  # the window keeps the result
    for name in names[1:]:
        assert read_metadata(cli_dir / name) == read_metadata(gui_dir / name)
        a = np.asarray(Image.open(cli_dir / name).convert("RGB"))
        assert np.array_equal(a, np.asarray(Image.open(gui_dir / name).convert("RGB")))
    meta = read_metadata(cli_dir / "out.png")
    assert meta == result.metadata
    assert meta["inputs"] == {"content": "c.png", "styles": ["s.png", "t.png"]}
    assert meta["settings"]["style_blend"] == [1.0, 3.0] and meta["status"] == "done"
