"""First use: the VGG19 weights are not on this computer. Download them (torchvision's ImageNet
VGG19 or the Caffe VGG19 of neural-style), choose a file, or try the app with untrained weights;
never start a run with weights the user did not choose."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.gui.jobs import BackgroundJob

log = logging.getLogger(__name__)
WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt);;All files (*)"

#: The published networks the dialog offers, and one sentence on each for an artist.
NETWORKS = (
    (
        "torchvision",
        "ImageNet VGG19 (torchvision)",
        "The network of the paper, as PyTorch ships it.",
    ),
    (
        "caffe",
        "Caffe VGG19 (neural-style's)",
        "The network neural-style used; many artists find its colours more vivid.",
    ),
)


def _download_job(
    url: str, dest: Path, hash_prefix: str | None, source: str = "torchvision"
) -> BackgroundJob:
    """``core.weights.download`` as a background job: progress as (kB done, kB total); the
    result is "" on success, else one sentence."""

    def work(job: BackgroundJob) -> str:
        from nst_desktop.core.weights import WeightsError, download, missing_weights_message

        try:
            download(
                url,
                dest,
                hash_prefix=hash_prefix,
                progress=lambda done, total: job.report((done >> 10, total >> 10)),
                cancelled=lambda: job.cancelled,
                source=source,
            )
        except WeightsError as exc:
            text = str(exc)
            generic = missing_weights_message(source)  # for the command line: say it shorter
            if text.startswith(generic):
                text = f"The download failed ({text[len(generic) :].strip(' ()')})."
            return text
        except Exception as exc:  # noqa: BLE001 - reported as one sentence, logged in full
            log.exception("weights download failed")
            return f"The download failed ({exc})."
        return ""

    return BackgroundJob("weights-download", work)


class WeightsDialog(QDialog):
    """Offers the download of a published network (progress, Cancel), "Choose file…", or
    untrained weights.

    After ``exec()``, :attr:`choice` is the settings ``weights`` value to use ("torchvision",
    "caffe", "random" or a file path), or None when the user closed the dialog.
    """

    def __init__(self, parent: QWidget | None = None, source: str = "torchvision") -> None:
        super().__init__(parent)
        self.choice: str | None = None
        self._download: BackgroundJob | None = None
        self.setWindowTitle("VGG19 weights")
        self.setMinimumWidth(520)
        intro = QLabel(
            "<b>Style transfer needs a trained VGG19 network (about 550 MB, downloaded once).</b>"
            "<br>It is not on this computer yet. Download it now, or choose a copy you already "
            "have."
        )
        intro.setWordWrap(True)
        self.network = QComboBox()
        self.network.setObjectName("weightsNetwork")
        for key, label, _about in NETWORKS:
            self.network.addItem(label, key)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the address and the folder, copyable: to fetch the file with a browser elsewhere
        self.url_field = _copyable("weightsUrl")
        self.folder_field = _copyable("weightsFolder")
        fields = QFormLayout()
        fields.addRow("Address", self.url_field)
        fields.addRow("Folder", self.folder_field)
        self.network.currentIndexChanged.connect(lambda _i: self._show_network())
        self.network.setCurrentIndex(max(0, self.network.findData(source)))
        self._show_network()
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("weightsMessage")
        self.message.setStyleSheet("color: #a01010;")
        self.download_button = QPushButton("Download")
        self.download_button.setDefault(True)
        self.choose_button = QPushButton("Choose file…")
        self.random_button = QPushButton("Try untrained weights")
        self.random_button.setToolTip(
            "Random, untrained weights run the whole app but produce no real style: only for "
            "trying it out."
        )
        self.cancel_button = QPushButton("Cancel")
        self.download_button.clicked.connect(self.start_download)
        self.choose_button.clicked.connect(self.choose_file)
        self.random_button.clicked.connect(lambda: self._finish("random"))
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.random_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.network)
        layout.addWidget(self.about)
        layout.addWidget(self.where)
        layout.addLayout(fields)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    @property
    def source(self) -> str:
        """The published network chosen in the dialog ("torchvision" or "caffe")."""
        return str(self.network.currentData())

    def _show_network(self) -> None:
        """Point the download, the sentence and the folder at the chosen network."""
        from nst_desktop.core import weights as W

        spec = W.PUBLISHED[self.source]
        self.url, self.hash_prefix = spec.url, spec.hash_prefix
        self.dest = W.hub_checkpoint_path(self.source)
        self.about.setText(next(about for key, _l, about in NETWORKS if key == self.source))
        self.where.setText(
            f"It is kept at:<br><code>{self.dest}</code><br>You can also download it with a "
            f"browser from the address below and put <code>{spec.filename}</code> in that folder."
        )
        self.url_field.setText(spec.url)
        self.folder_field.setText(str(self.dest.parent))

    @property
    def downloading(self) -> bool:
        return self._download is not None

    def start_download(self) -> None:
        if self._download is not None:
            return
        self.message.clear()
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        for b in (self.download_button, self.choose_button, self.random_button, self.network):
            b.setEnabled(False)
        self._download = _download_job(self.url, self.dest, self.hash_prefix, self.source)
        self._download.progressed.connect(self._on_progress)
        self._download.succeeded.connect(self._on_finished)
        self._download.start()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose VGG19 weights", "", WEIGHTS_FILTER)
        if not path:
            return
        from nst_desktop.core.weights import WeightsError, features_state, read_state_file

        try:  # check it now, so the problem is told here and not after a run starts
            features_state(read_state_file(Path(path)), Path(path).name)
        except WeightsError as exc:
            self.message.setText(str(exc))
            return
        self._finish(path)

    def cancel(self) -> None:
        if self._download is not None:
            self._download.cancel()
            self.message.setText("Cancelling…")
            return
        self.reject()

    def reject(self) -> None:  # Escape and the window's close button come here too
        if self._download is not None:
            self._download.cancel()
            self._download.join(timeout=5)
            self._download = None
        super().reject()

    def _on_progress(self, done_total: tuple[int, int]) -> None:
        done_kb, total_kb = done_total
        if total_kb > 0:
            self.bar.setRange(0, total_kb)
            self.bar.setValue(min(done_kb, total_kb))
            self.bar.setFormat(f"%p%  ({done_kb >> 10} of {total_kb >> 10} MB)")
        else:
            self.bar.setFormat(f"{done_kb >> 10} MB")

    def _on_finished(self, error: str) -> None:
        self._download = None
        self.bar.setVisible(False)
        for b in (self.download_button, self.choose_button, self.random_button, self.network):
            b.setEnabled(True)
        if not error:
            self._finish(self.source)
            return
        if "cancelled" not in error:
            error += " Check the internet connection, or use “Choose file…”."
        self.message.setText(error)

    def _finish(self, choice: str) -> None:
        self.choice = choice
        self.accept()


def _copyable(name: str) -> QLineEdit:
    """A read-only line whose text can be selected and copied (Ctrl+A, Ctrl+C)."""
    field = QLineEdit()
    field.setObjectName(name)
    field.setReadOnly(True)
    field.setToolTip("Select and copy (Ctrl+A, Ctrl+C).")
    return field
