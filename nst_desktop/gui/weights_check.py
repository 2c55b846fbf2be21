"""A weights file is checked when it is chosen, not when a run starts: a file that is not a
VGG19 is told at once ("this is not a VGG19 weights file"); a VGG19 that is not a published
network is accepted and labelled "custom weights", with one sentence on what that means.

The check reads the file (hundreds of MB) in a background job; the window names the weights in
the status bar and the picture's caption from :attr:`WeightsChecker.label`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from nst_desktop.gui.jobs import BackgroundJob
from nst_desktop.gui.model import Clear, WindowModel

NAMED = ("torchvision", "caffe", "random")  # weights values that are not files


def _check_job(path: str) -> BackgroundJob:
    def work(_job: BackgroundJob) -> object:
        from nst_desktop.core.weights import WeightsError, check_weights_file

        try:
            return check_weights_file(Path(path))
        except WeightsError as exc:
            return str(exc)

    return BackgroundJob("weights-check", work)


class WeightsChecker(QObject):
    """Checks ``model.settings.weights`` each time it becomes another file."""

    checked = Signal(str, object)  # (path, WeightsCheck or the sentence of a refusal)

    def __init__(self, model: WindowModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.label = ""  # "custom weights x.pth" once a custom file was checked
        self._path: str | None = None
        self._job: BackgroundJob | None = None
        model.settingsChanged.connect(lambda s: self.check(s.weights))

    def check(self, weights: str) -> None:
        if weights in NAMED or weights == self._path:
            if weights in NAMED:
                self._path, self.label = None, ""
            return
        self._path = weights
        if self._job is not None:
            self._job.cancel()
        job = self._job = _check_job(weights)
        job.succeeded.connect(lambda result, p=weights, j=job: self._done(j, p, result))
        job.start()

    def _done(self, job: BackgroundJob, path: str, result: object) -> None:
        if job is self._job:
            self._job = None
        if path != self.model.settings.weights:
            return  # another file was chosen meanwhile
        self.checked.emit(path, result)
        clears = {Clear.SETTINGS_CHANGED, Clear.RUN_STARTS}
        if isinstance(result, str):
            self.label = ""
            self.model.show_message(result, clears=clears)
            return
        self.label = result.label
        if result.published is None:
            self.model.show_message(f"{Path(path).name}: {result.sentence}", "info", clears=clears)
        else:
            self.model.set_status(f"{Path(path).name} is the {result.label}.")
