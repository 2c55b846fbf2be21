"""The right side's upper part: what the picture is, the picture (or the sweep grid), and the
loss plot of that same picture; all of it drawn from the window model's picture."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.settings import Mode
from nst_desktop.gui.loss_plot import LossPlot
from nst_desktop.gui.model import RunState, WindowModel
from nst_desktop.gui.picture import Picture, PictureKind
from nst_desktop.gui.preview import PLACEHOLDER, PreviewView
from nst_desktop.gui.sweep_view import SweepView


class EndElidedLabel(QLabel):
    """A one-line label that a narrow window cuts at its end, with "…", instead of mid-letter;
    ``text()`` stays whole."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.width()
        )
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.rect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()


class PictureArea(QWidget):
    def __init__(self, model: WindowModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.caption = EndElidedLabel()
        self.caption.setObjectName("pictureCaption")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # a file name is not markup
        self.caption.setToolTip("What the picture below is, and which run made it.")
        self.preview = PreviewView()
        self.preview.setObjectName("preview")
        self.sweep_view = SweepView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.preview)
        self.stack.addWidget(self.sweep_view)

        self.fit_button = QToolButton(text="Fit")
        self.fit_button.setToolTip("Show the whole picture (Ctrl+0).")
        self.fit_button.clicked.connect(self.preview.fit)
        self.actual_button = QToolButton(text="100%")
        self.actual_button.setToolTip("One picture pixel per screen pixel (Ctrl+1).")
        self.actual_button.clicked.connect(self.preview.actual_size)
        self.compare_button = QToolButton(text="Before / after")
        self.compare_button.setCheckable(True)
        self.compare_button.setToolTip(
            "Compare with the content photo: drag the line across the picture (Ctrl+B)."
        )
        self.compare_button.toggled.connect(self.preview.set_compare)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(60)
        self.preview.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        view_row = QHBoxLayout()
        for w in (self.fit_button, self.actual_button, self.compare_button):
            view_row.addWidget(w)
        view_row.addSpacing(12)
        view_row.addWidget(self.caption, 1)
        view_row.addWidget(self.zoom_label)

        self.loss_plot = LossPlot()
        self.loss_plot.setMinimumHeight(110)
        # the picture and the plot share the height; drag the handle, or hide the plot (View)
        self.plot_splitter = QSplitter(Qt.Orientation.Vertical)
        self.plot_splitter.setObjectName("plotSplitter")
        self.plot_splitter.addWidget(self.stack)
        self.plot_splitter.addWidget(self.loss_plot)
        self.plot_splitter.setStretchFactor(0, 1)
        self.plot_splitter.setCollapsible(0, False)
        self.plot_splitter.setSizes([600, 150])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(view_row)
        layout.addWidget(self.plot_splitter, 1)

        model.pictureChanged.connect(self.show_picture)
        model.pictureRelabelled.connect(lambda _p: self._update_caption())
        model.pictureRelabelled.connect(lambda _p: self._update_compare())
        model.frameChanged.connect(self._frame)
        model.cellChanged.connect(self.sweep_view.set_cell)
        model.activeCellChanged.connect(self.sweep_view.set_active)
        model.plotPoint.connect(self.loss_plot.add)
        model.plotMarker.connect(self.loss_plot.set_marker)
        model.contentChanged.connect(lambda _c: self._update_compare())
        model.runStateChanged.connect(lambda _s: self._update_caption())
        self.show_picture(model.picture)

    def plot_shown(self) -> bool:
        """Whether the plot is meant to be shown (also while the window itself is hidden)."""
        return not self.loss_plot.isHidden() and self.plot_splitter.sizes()[1] > 0

    def show_plot(self, shown: bool) -> None:
        """Show or hide the loss plot; the picture takes the room it leaves."""
        self.loss_plot.setVisible(shown)
        if shown and self.plot_splitter.sizes()[1] == 0:
            total = max(sum(self.plot_splitter.sizes()), 300)
            self.plot_splitter.setSizes([total - 150, 150])

    def _as_grid(self, picture: Picture) -> bool:
        """A sweep's picture is its grid; before any run, sweep mode shows the empty grid."""
        if picture.kind in (PictureKind.EMPTY, PictureKind.PHOTO):
            return self.model.settings.mode == Mode.SWEEP
        return picture.sweep

    def show_picture(self, picture: Picture) -> None:
        """Draw ``picture`` from scratch, with its own plot."""
        self._update_caption()
        self._update_compare()
        if self._as_grid(picture):
            self.stack.setCurrentWidget(self.sweep_view)
            self.sweep_view.reset([(t, list(c)) for t, c in picture.rows])
            for i, cell in enumerate(picture.cells):
                if cell is not None:
                    self.sweep_view.set_cell(i, cell)
        else:
            self.stack.setCurrentWidget(self.preview)
            if picture.image is not None:
                self.preview.set_image(picture.image)
            else:
                self.preview.clear(_placeholder(picture))
        self.loss_plot.reset()
        for step, total, terms in picture.curve.points:
            self.loss_plot.add(step, total, terms)
        for step, label in picture.curve.markers:
            self.loss_plot.set_marker(step, label)

    def _update_caption(self) -> None:
        live = {RunState.PAUSED: "paused", RunState.STOPPING: "stopping"}
        self.caption.setText(self.model.picture.caption(live.get(self.model.run_state, "live")))

    def _frame(self, image: Any) -> None:
        self.preview.set_image(image)

    def _update_compare(self) -> None:
        """Before/after only for a transfer of the photo chosen now; never across inputs."""
        picture = self.model.picture
        content = self.model.content
        allowed = picture.comparable and content is not None and not picture.sweep
        self.compare_button.setEnabled(allowed)
        if not allowed and self.compare_button.isChecked():
            self.compare_button.setChecked(False)
        self.preview.set_before(content.array if allowed and content is not None else None)


def _placeholder(picture: Picture) -> str:
    if picture.kind == PictureKind.LIVE:
        return f"Run {picture.run} is starting…"
    if picture.kind == PictureKind.RESULT:
        return f"Run {picture.run} made no picture."
    return PLACEHOLDER
