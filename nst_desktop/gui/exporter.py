"""Export: the picture on screen (or a sweep's labelled grid) and the run's time-lapse, with the
settings they were made with embedded; asks where, and before replacing a file."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from nst_desktop.core.images import SAVE_FORMATS, ImageError, save_image
from nst_desktop.core.outputs import run_inputs, same_file
from nst_desktop.core.session import RunInputs, build_metadata
from nst_desktop.gui.model import Clear, WindowModel
from nst_desktop.gui.picture import Picture, PictureKind

EXPORT_FILTERS = {
    "PNG image (*.png)": ".png",
    "JPEG image (*.jpg *.jpeg)": ".jpg",
    "WebP image (*.webp)": ".webp",
    "TIFF image (*.tif *.tiff)": ".tif",
}
TIMELAPSE_FILTERS = {"Animated GIF (*.gif)": ".gif", "Animated WebP (*.webp)": ".webp"}
FOLDER_KEY = "export/folder"


def picture_pixels(picture: Picture) -> np.ndarray | None:
    """What Export saves of a picture: the image, or a sweep's labelled grid so far."""
    if picture.sweep and (picture.image is None or picture.kind == PictureKind.LIVE):
        if not any(c is not None for c in picture.cells):
            return None
        from nst_desktop.core.grid import sweep_grids

        rows = [(t, list(c)) for t, c in picture.rows]
        random = picture.settings is not None and picture.settings.weights == "random"
        grid = sweep_grids(rows, list(picture.cells), untrained=random)[""]
        return np.asarray(grid.convert("RGB"))
    return picture.image if picture.exportable else None


def picture_metadata(picture: Picture, iterations: int) -> dict[str, Any]:
    """The metadata an exported picture carries: its run's, or "in progress" for a live one."""
    if picture.kind == PictureKind.RESULT and picture.metadata:
        return dict(picture.metadata)
    src = picture.source
    inputs = RunInputs.of(src.content, [(p, 1.0) for p in src.styles]).for_mode(src.mode)
    meta = build_metadata(picture.settings, inputs, weights=None, device=None)
    meta.update(status="in progress", iterations=iterations)
    return meta


class Exporter:
    def __init__(
        self,
        model: WindowModel,
        qs: QSettings,
        parent: QWidget,
        frames: Callable[[], list[np.ndarray]],
    ) -> None:
        self.model = model
        self.qs = qs
        self.parent = parent
        self.frames = frames  # the latest run's time-lapse frames

    def export(self, path: str | None = None) -> Path | None:
        """Save the picture (asking where, and before overwriting); None when nothing was saved."""
        picture = self.model.picture
        pixels = picture_pixels(picture)
        if pixels is None:
            self._say("There is nothing to export yet; press Run first.")
            return None
        meta = picture_metadata(picture, self.model.progress.value)
        return self.save_pixels(pixels, meta, path)

    def save_pixels(
        self, pixels: np.ndarray, meta: dict[str, Any], path: str | None = None, what: str = ""
    ) -> Path | None:
        """Save ``pixels`` with ``meta`` embedded, asking where (and before overwriting) unless
        ``path`` is given; None when nothing was saved. ``what`` names it in the status line."""
        if path is None:
            path = self._ask_save_path("Export picture", EXPORT_FILTERS)
            if path is None:
                return None
        target = Path(path)
        if target.suffix.lower() not in SAVE_FORMATS:
            self._say(
                f"Cannot save as “{target.suffix or target.name}”; end the name in .png, .jpg, "
                ".webp or .tif."
            )
            return None
        if not self._confirm_replace(target):
            return None
        try:
            save_image(pixels, target, metadata=meta)
        except ImageError as exc:
            self._say(f"{exc} The picture is still here; export it elsewhere.")
            return None
        self.qs.setValue(FOLDER_KEY, str(target.parent))
        self.model.set_status(f"Saved {what + ' to ' if what else ''}{target}.")
        return target

    def export_timelapse(self, path: str | None = None) -> Path | None:
        from nst_desktop.core.timelapse import save_timelapse

        frames = self.frames()
        if len(frames) < 2:
            self._say(
                "There is no time-lapse yet: it is recorded during a style transfer or "
                "representation run."
            )
            return None
        if path is None:
            path = self._ask_save_path("Export time-lapse", TIMELAPSE_FILTERS)
            if path is None:
                return None
        target = Path(path)
        if not self._confirm_replace(target):
            return None
        meta = picture_metadata(self.model.picture, self.model.progress.value)
        try:
            save_timelapse(target, frames, metadata=meta)
        except ImageError as exc:
            self._say(f"{exc} The frames are still here; export them elsewhere.")
            return None
        self.model.set_status(f"Saved the time-lapse ({len(frames)} frames) to {target}.")
        return target

    def _say(self, text: str) -> None:
        self.model.show_message(text, clears={Clear.RUN_STARTS, Clear.INPUTS_CHANGED})

    def _ask_save_path(self, title: str, filters: dict[str, str]) -> str | None:
        value = self.qs.value(FOLDER_KEY)
        folder = value if isinstance(value, str) and value else str(Path.home())
        name = "nst-" + time.strftime("%Y%m%d-%H%M%S")
        chosen_filter = next(iter(filters))
        path, selected = QFileDialog.getSaveFileName(
            self.parent,
            title,
            str(Path(folder) / (name + filters[chosen_filter])),
            ";;".join(filters),
            chosen_filter,
            QFileDialog.Option.DontConfirmOverwrite,  # asked below, once, in our words
        )
        if not path:
            return None
        if not Path(path).suffix:
            path += filters.get(selected, ".png")
        return path

    def _confirm_replace(self, target: Path) -> bool:
        """Ask before writing over a file, plainly when it is one of the pictures used."""
        model = self.model
        inputs = run_inputs([model.content_path, *model.style_paths], model.settings)
        used = next((p for p in inputs if same_file(target, p)), None)
        if used is None:
            return not target.exists() or self._confirm_overwrite(target)
        link = "" if os.path.abspath(used) == os.path.abspath(target) else f" ({used.name})"
        answer = QMessageBox.question(
            self.parent,
            "Replace a picture in use?",
            f"{target.name} is one of the pictures this run is made from{link}. Replacing it "
            "destroys the original. Replace it anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _confirm_overwrite(self, target: Path) -> bool:
        answer = QMessageBox.question(
            self.parent, "Replace the file?", f"{target.name} already exists. Replace it?"
        )
        return answer == QMessageBox.StandardButton.Yes
