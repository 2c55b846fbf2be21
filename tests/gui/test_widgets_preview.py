"""PreviewView: pixels reach the screen, zoom/fit/pan, before/after split."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from nst_desktop.gui.preview import PreviewView
from nst_desktop.gui.qimage import from_qimage

RED, BLUE = (220, 20, 30), (20, 40, 210)


def solid(color, w=40, h=30) -> np.ndarray:
    return np.tile(np.array(color, np.uint8), (h, w, 1))


@pytest.fixture
def view(qtbot):
    v = PreviewView()
    qtbot.addWidget(v)
    v.resize(200, 150)
    v.show()
    qtbot.waitExposed(v)
    return v


def shot(v: PreviewView) -> np.ndarray:
    return from_qimage(v.grab().toImage())


def test_placeholder_then_image_pixels(view):
    empty = shot(view)
    assert view.current_image() is None
    assert len(np.unique(empty.reshape(-1, 3), axis=0)) > 1  # the placeholder text is drawn

    arr = solid(RED)
    view.set_image(arr)
    assert view.current_image() is arr
    px = shot(view)
    c = view.image_rect().center()
    assert tuple(px[int(c.y()), int(c.x())]) == RED
    assert tuple(px[2, 2]) != RED  # background outside the image


def test_frames_shown_counts_new_frames_only(view):
    view.set_image(solid(RED))
    view.grab()
    n = view.frames_shown
    view.grab()  # a repaint without a new frame
    assert view.frames_shown == n
    view.set_image(solid(BLUE))
    view.grab()
    assert view.frames_shown == n + 1


def test_fit_actual_size_zoom(view):
    view.set_image(solid(RED, 40, 30))
    assert view.is_fit()
    fit_zoom = view.zoom()
    assert fit_zoom == pytest.approx(min((200 - 16) / 40, (150 - 16) / 30))
    view.actual_size()
    assert view.zoom() == pytest.approx(1.0)
    assert view.image_rect().width() == pytest.approx(40)
    view.zoom_by(2.0)
    assert view.zoom() == pytest.approx(2.0)
    assert not view.is_fit()
    view.fit()
    assert view.zoom() == pytest.approx(fit_zoom)


def test_zoom_keeps_anchor_point_fixed(view):
    view.set_image(solid(RED, 40, 30))
    view.actual_size()
    r = view.image_rect()
    anchor = QPointF(r.left() + 10, r.top() + 5)  # image pixel (10, 5)
    view.zoom_by(3.0, anchor)
    r2 = view.image_rect()
    assert (anchor.x() - r2.left()) / view.zoom() == pytest.approx(10)
    assert (anchor.y() - r2.top()) / view.zoom() == pytest.approx(5)


def test_wheel_zooms_in(view, qtbot):
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view.set_image(solid(RED))
    before = view.zoom()
    pos = QPointF(100, 75)
    ev = QWheelEvent(
        pos,
        view.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, ev)
    assert view.zoom() == pytest.approx(before * 1.2)


def test_drag_pans(view, qtbot):
    view.set_image(solid(RED))
    view.actual_size()
    x0 = view.image_rect().left()
    start = view.rect().center()
    end = start + QPoint(30, 0)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end)
    assert view.image_rect().left() == pytest.approx(x0 + 30)


def test_nearest_when_zoomed_in(view):
    checker = np.zeros((4, 4, 3), np.uint8)
    checker[::2, ::2] = 255
    checker[1::2, 1::2] = 255
    view.set_image(checker)
    view.actual_size()
    view.zoom_by(8.0)  # 800 %: each image pixel is an 8x8 block of one pure colour
    px = shot(view)
    r = view.image_rect()
    block = px[int(r.top()) + 1 : int(r.top()) + 7, int(r.left()) + 1 : int(r.left()) + 7]
    assert np.all(block == 255)
    nxt = px[int(r.top()) + 1 : int(r.top()) + 7, int(r.left()) + 9 : int(r.left()) + 15]
    assert np.all(nxt == 0)


def test_compare_shows_before_left_after_right(view, qtbot):
    view.set_before(solid(BLUE))
    view.set_image(solid(RED))
    view.set_compare(True)
    px = shot(view)
    r = view.image_rect()
    y = int(r.top() + r.height() * 0.8)
    assert tuple(px[y, int(r.left() + r.width() * 0.2)]) == BLUE
    assert tuple(px[y, int(r.left() + r.width() * 0.8)]) == RED
    # drag the split line to the right: more of "before" becomes visible
    sx = r.left() + r.width() * 0.5
    start = QPointF(sx, r.center().y()).toPoint()
    end = QPointF(r.left() + r.width() * 0.9, r.center().y()).toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end)
    assert view.split() > 0.8
    px = shot(view)
    assert tuple(px[y, int(r.left() + r.width() * 0.7)]) == BLUE
    view.set_compare(False)
    px = shot(view)
    assert tuple(px[y, int(r.left() + r.width() * 0.2)]) == RED


def test_resolution_change_keeps_fit(view):
    view.set_image(solid(RED, 20, 15))
    z = view.zoom()
    view.set_image(solid(RED, 40, 30))  # the next coarse-to-fine scale
    assert view.zoom() == pytest.approx(z / 2, rel=0.05)
    view.zoom_by(1.5)
    shown = view.image_rect().width()
    view.set_image(solid(RED, 80, 60))
    assert view.image_rect().width() == pytest.approx(shown)


def test_actual_size_is_device_pixels_on_high_dpi(view, monkeypatch):
    view.set_image(solid(RED, 40, 30))
    monkeypatch.setattr(view, "_dpr", lambda: 2.0)
    view.actual_size()
    assert view.zoom() == pytest.approx(1.0)
    assert view.image_rect().width() == pytest.approx(20)  # 40 device px = 20 logical px


def test_downscaled_and_mixed_resolution_compare(view):
    """A large result is shrunk area-averaged; a before image of another size still lines up."""
    big = solid(RED, 800, 600)
    big[:, 400:] = BLUE  # right half blue
    view.set_image(big)
    assert view.zoom() < 0.75
    px = shot(view)
    r = view.image_rect()
    y = int(r.center().y())
    assert tuple(px[y, int(r.left() + r.width() * 0.25)]) == RED
    assert tuple(px[y, int(r.left() + r.width() * 0.75)]) == BLUE
    view.set_before(solid((0, 200, 0), 1600, 1200))
    view.set_compare(True)
    view.set_split(0.6)
    px = shot(view)
    y = int(r.top() + r.height() * 0.8)
    assert tuple(px[y, int(r.left() + r.width() * 0.4)]) == (0, 200, 0)
    assert tuple(px[y, int(r.left() + r.width() * 0.8)]) == BLUE


def test_a_small_picture_fitted_to_the_window_is_enlarged_smoothly(view):
    """Fitted, a 4 px checkerboard at ~3500 % shows blends between its squares, not blocks."""
    checker = np.zeros((4, 4, 3), np.uint8)
    checker[::2, ::2] = 255
    checker[1::2, 1::2] = 255
    view.set_image(checker)
    view.fit()
    assert view.zoom() > 1.0
    px = shot(view)
    r = view.image_rect()
    row = px[int(r.center().y()), int(r.left()) + 2 : int(r.right()) - 2, 0]
    greys = np.count_nonzero((row > 30) & (row < 225))
    assert greys > len(row) // 4  # smooth ramps between black and white
