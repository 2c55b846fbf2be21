"""Render one small example picture per bundled preset, for the window's presets list.

Each picture is a run of the preset's look on the bundled samples (``make_samples.py``) through
the same core session the CLI and the window use, at a small size and a modest number of
iterations, so the whole script takes minutes on a laptop's processor. It is deterministic:
the same weights, torch and samples give the same pixels (one thread, seed 0).

The weights are the ImageNet VGG19 when it is on this computer (the torchvision cache), else
the random, untrained network: a picture from untrained weights shows no real style, only that
the preset runs. ``pictures.json`` and ``README.md`` beside the pictures say which were used;
the window names them under the list.

    python resources/make_preset_pictures.py [OUT_DIR]   (default: resources/preset_pictures)
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from nst_desktop.core import presets as P  # noqa: E402
from nst_desktop.core.session import RunInputs, RunSession  # noqa: E402
from nst_desktop.core.settings import Mode, RunSettings  # noqa: E402

SIZE = 112
#: A tenth of each preset's own iterations, within these bounds.
MIN_STEPS, MAX_STEPS = 30, 80
CONTENT = "content_landscape.png"
STYLE = "style_swirls.png"
INFO_NAME = "pictures.json"


def needs_picture(preset: P.Preset) -> bool:
    """A layer sweep makes a grid of studies, not one picture: its entry has no example."""
    return preset.settings.get("mode", "transfer") != Mode.SWEEP


def preset_settings(preset: P.Preset, weights: str, size: int, steps: int | None) -> RunSettings:
    """The preset's look at the example's small size (one scale, seed 0, one thread)."""
    base = RunSettings(weights=weights, device="cpu", threads=1, seed=0)
    settings, _, _ = P.apply_preset(preset, base)
    own = steps if steps is not None else min(MAX_STEPS, max(MIN_STEPS, settings.steps // 10))
    return dataclasses.replace(
        settings, size=size, steps=own, scales=1, save_every=0, weights=weights, threads=1
    )


def choose_weights() -> str:
    """'torchvision' when the ImageNet weights need no download, else 'random'."""
    from nst_desktop.core.weights import torchvision_weights_available

    return "torchvision" if torchvision_weights_available() else "random"


def render(
    preset: P.Preset,
    target: Path,
    *,
    weights: str = "random",
    size: int = SIZE,
    steps: int | None = None,
    samples: Path = HERE / "samples",
) -> str:
    """Run ``preset`` on the samples and save the picture at ``target``; returns the weights'
    label. Raises RuntimeError when the run made no picture."""
    from nst_desktop.core.weights import load_weights

    settings = preset_settings(preset, weights, size, steps)
    inputs = RunInputs.of(samples / CONTENT, [(samples / STYLE, 1.0)])
    labels: list[str] = []

    def provide(source: str, fmt: str, _cancelled: object) -> object:
        loaded = load_weights(source, fmt=fmt, allow_download=False)
        labels.append(loaded.label)
        return loaded

    session = RunSession(settings, inputs, weights=provide, history=False)
    for _record in session.records():
        pass
    result = session.result
    if result is None or result.image is None:
        message = result.message if result is not None else "no result"
        raise RuntimeError(f"preset '{preset.name}' made no picture: {message}")
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(result.image, np.uint8)).save(target, optimize=True)
    return labels[0] if labels else weights


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE / "preset_pictures"
    weights = choose_weights()
    presets = sorted((p for p in P.list_presets()[0] if p.bundled), key=lambda p: str(p.path))
    made: dict[str, str] = {}
    label = weights
    for preset in presets:
        if not needs_picture(preset) or preset.path is None:
            continue
        start = time.perf_counter()
        target = out / f"{preset.path.stem}.png"
        label = render(preset, target, weights=weights)
        made[preset.path.stem] = preset.name
        print(f"{target.name}: {preset.name} ({time.perf_counter() - start:.0f} s)")
    trained = weights != "random"
    info = {
        "weights": label,
        "trained": trained,
        "size": SIZE,
        "content": CONTENT,
        "style": STYLE,
        "pictures": made,
    }
    (out / INFO_NAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(label, trained), encoding="utf-8")
    return 0


def _readme(label: str, trained: bool) -> str:
    caveat = (
        "These were made with the ImageNet weights: they show each preset's look."
        if trained
        else "These were made with the **random, untrained** network (no ImageNet weights were "
        "on the computer that made them): they show no real style, only that each preset runs "
        "and roughly how it starts. Re-render them on a computer with the weights for real ones."
    )
    return (
        "# Preset example pictures\n\n"
        f"One {SIZE} px picture per bundled preset (none for the layer sweep), the preset's look "
        f"on `samples/{CONTENT}` with `samples/{STYLE}`, made by `make_preset_pictures.py` "
        f"through the same session as the CLI. Weights: {label}.\n\n"
        f"{caveat}\n\n"
        "    python resources/make_preset_pictures.py\n"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
