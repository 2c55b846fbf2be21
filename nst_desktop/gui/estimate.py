"""The line under the run controls that says, before a run, how long it will take and whether it
fits: the planner's estimate for the model's settings, calibrated per device by a short probe."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from nst_desktop.gui.engine import PlannerProbe
from nst_desktop.gui.model import EstimateLine, WindowModel
from nst_desktop.gui.progress import clock, size_text


class Estimator(QObject):
    """Keeps ``model.estimate`` true for the current settings once the engine is ready."""

    def __init__(
        self, model: WindowModel, aspect: Callable[[], float], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.aspect = aspect
        self.ready = False
        self.calibrations: dict[str, Any] = {}
        self.estimate: Any = None  # the planner's last Estimate
        self.probe = PlannerProbe(self)
        self.probe.done.connect(self._calibrated)
        model.settingsChanged.connect(lambda _s: self.update())
        model.contentChanged.connect(lambda _c: self.update())

    def start(self) -> None:
        """The engine is loaded: estimates can be made from now on."""
        self.ready = True
        self.update()

    def update(self) -> None:
        if not self.ready:
            return
        from nst_desktop.core import planner
        from nst_desktop.core.device import DeviceError, resolve_device
        from nst_desktop.core.settings import SettingsError

        s = self.model.settings
        try:
            s.validate()
            device = str(resolve_device(s.device))
        except (SettingsError, DeviceError):
            self.model.set_estimate(EstimateLine())
            return
        if device not in self.calibrations:
            self.calibrations[device] = None
            self.probe.start(device)
        est = planner.estimate(s, device, self.calibrations.get(device), self.aspect())
        text = f"Estimate on {device}: peak memory about {size_text(est.peak_bytes)}"
        if math.isfinite(est.seconds_per_iter):
            text = (
                f"Estimate on {device}: {clock(est.seconds_per_iter)} per iteration, "
                f"{clock(est.total_seconds)} in all, peak memory about {size_text(est.peak_bytes)}"
            )
        warn = not est.fits
        tiles = self._tile_plan(s, device)
        if isinstance(tiles, str):
            text, warn = f"{text}. {tiles}", True
        elif tiles is not None:  # made in tiles: it fits under the ceiling after all
            text, warn = f"Estimate on {device}: {tiles}", False
        elif not est.fits:
            text += ". " + est.note
        self.estimate = est
        self.model.set_estimate(EstimateLine(text, warn=warn))

    def _tile_plan(self, settings: Any, device: str) -> str | None:
        """The plan of a picture made in tiles (None: it is made whole), or why it cannot be."""
        from nst_desktop.core.settings import SettingsError
        from nst_desktop.core.tiles import ceiling_bytes, plan_tiles

        aspect = min(max(self.aspect(), 0.01), 1.0)
        try:
            ceiling = ceiling_bytes(settings, device)
            plan = plan_tiles(
                settings, (1000, round(1000 * aspect)), ceiling, self.calibrations.get(device)
            )
        except SettingsError as exc:
            return str(exc)
        return plan.summary().removeprefix("plan: ") if plan is not None else None

    def _calibrated(self, device: str, calibration: Any) -> None:
        from nst_desktop.core.device import resolve_device

        try:
            key = str(resolve_device(device))
        except Exception:  # noqa: BLE001 - the device vanished meanwhile
            return
        self.calibrations[key] = calibration
        self.update()
