"""Where the VGG19 weights come from: torchvision's file (downloaded once), a user file, or random.

The torchvision file is 548 MB, of which the convolutional features are 80 MB. After the first
load we keep a features-only copy in the app's cache, so later starts read 80 MB, not 548 MB.
"""

from __future__ import annotations

import hashlib
import http.client
import pickle
import re
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .files import atomic_file
from .model import vgg19_features_skeleton
from .paths import cache_dir

TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
TORCHVISION_FILENAME = "vgg19-dcbb9e9d.pth"
#: torch.hub convention: the file name carries the first hex digits of the file's SHA-256.
TORCHVISION_HASH_PREFIX = "dcbb9e9d"
FEATURES_CACHE_NAME = f"vgg19-features-{TORCHVISION_HASH_PREFIX}.pt"

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total or 0 when unknown)."""


class WeightsError(Exception):
    """The weights cannot be had; the message tells the user what to do."""


class DownloadCancelled(WeightsError):
    def __init__(self) -> None:
        super().__init__("The download was cancelled; nothing was saved.")


@dataclass
class LoadedWeights:
    features: nn.Sequential
    #: What the user sees: "torchvision ImageNet", "file: x.pth" or "random (untrained, seed 0)".
    label: str
    trained: bool
    seconds: float


def hub_checkpoint_path() -> Path:
    """Where torch.hub keeps (or would keep) the torchvision file; TORCH_HOME is honoured."""
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILENAME


def features_cache_path() -> Path:
    return cache_dir() / FEATURES_CACHE_NAME


def torchvision_weights_available() -> bool:
    """True when loading the torchvision weights needs no download."""
    return features_cache_path().is_file() or hub_checkpoint_path().is_file()


def missing_weights_message() -> str:
    return (
        f"The VGG19 weights are not on this computer and could not be downloaded. Download "
        f"{TORCHVISION_URL} and put it at {hub_checkpoint_path()}, or choose a weights file "
        "(--weights PATH)."
    )


# --------------------------------------------------------------------------- download
def download(
    url: str,
    dest: Path,
    *,
    hash_prefix: str | None = TORCHVISION_HASH_PREFIX,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest`` through a temporary file, verifying its SHA-256 prefix.

    The file appears at ``dest`` only complete and verified; an interruption, a cancel or a
    bad hash leaves nothing behind.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256()
    try:
        with atomic_file(dest) as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(1 << 20):
                if cancelled is not None and cancelled():
                    raise DownloadCancelled()
                out.write(chunk)
                sha.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            if total and done != total:
                raise WeightsError(
                    f"The download stopped after {done} of {total} bytes; try again."
                )
            digest = sha.hexdigest()
            if hash_prefix and not digest.startswith(hash_prefix):
                raise WeightsError(
                    f"The downloaded weights are damaged (SHA-256 {digest[:8]}..., expected "
                    f"{hash_prefix}...); nothing was kept. Try again, or download {url} by hand."
                )
        return dest
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise WeightsError(f"{missing_weights_message()} ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).strip() or type(exc).__name__


# --------------------------------------------------------------------------- loading
def expected_shapes() -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in vgg19_features_skeleton().state_dict().items()}


_EXPECTED: dict[str, tuple[int, ...]] | None = None


def features_state(state: object, source: str) -> dict[str, torch.Tensor]:
    """The ``features`` part of a torchvision VGG19 state dict (full model or features only)."""
    global _EXPECTED
    if _EXPECTED is None:
        _EXPECTED = expected_shapes()
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{source} is not a VGG19 state dict; choose a torchvision VGG19 file.")
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not isinstance(key, str):
            continue
        short = key.removeprefix("module.").removeprefix("features.")
        if short in _EXPECTED and isinstance(value, torch.Tensor):
            out[short] = value
    missing = [k for k in _EXPECTED if k not in out]
    if missing:
        raise WeightsError(
            f"{source} is not a torchvision VGG19 weights file (missing {len(missing)} of "
            f"{len(_EXPECTED)} tensors, e.g. features.{missing[0]}); choose vgg19-dcbb9e9d.pth "
            "or a file saved from torchvision's vgg19()."
        )
    for key, shape in _EXPECTED.items():
        if tuple(out[key].shape) != shape:
            raise WeightsError(
                f"{source} does not fit VGG19: features.{key} has shape "
                f"{tuple(out[key].shape)}, expected {shape}; choose a VGG19 (not VGG16) file."
            )
        if not out[key].is_floating_point():
            raise WeightsError(f"{source}: features.{key} is not a floating-point tensor.")
    return out


def read_state_file(path: Path) -> object:
    """``torch.load`` with ``weights_only=True``: a file cannot run code on load."""
    if not path.is_file():
        raise WeightsError(f"Weights file {path} does not exist; check the path.")
    try:
        if path.stat().st_size == 0:
            raise WeightsError(f"{path.name} is empty (0 bytes); download it again.")
        with warnings.catch_warnings():
            # torch warns on stderr about pickle protocols it may not support; the outcome is
            # what counts (the CLI's contract is one line on stderr), and failures follow.
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except pickle.UnpicklingError as exc:
        raise WeightsError(
            f"{path.name} contains more than plain tensors and was not loaded for safety "
            f"({_refused_part(exc)}); choose a plain state-dict file."
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WeightsError(
            f"{path.name} could not be read as a weights file (it may be truncated or not a "
            f"PyTorch file: {_first_line(exc)}); download it again."
        ) from None
    except Exception as exc:  # noqa: BLE001 - garbage bytes make the unpickler raise anything
        raise WeightsError(
            f"{path.name} is not a PyTorch weights file ({type(exc).__name__}); choose a "
            "torchvision VGG19 state-dict file."
        ) from None


def _refused_part(exc: BaseException) -> str:
    """What torch's safe unpickler refused (its message is a page of advice to load unsafely)."""
    found = re.search(r"Unsupported (global: GLOBAL \S+|operand \d+|[^\n.]{1,60})", str(exc))
    return found.group(0) if found else "objects other than tensors"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:120] if lines else type(exc).__name__


def _build(state: dict[str, torch.Tensor]) -> nn.Sequential:
    features = vgg19_features_skeleton()
    features.load_state_dict({k: v.float() for k, v in state.items()})
    return features


def _save_atomic(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as out:
        torch.save(obj, out)


def load_torchvision(
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    allow_download: bool = True,
    url: str = TORCHVISION_URL,
) -> LoadedWeights:
    """The ImageNet VGG19 features, from the fast cache, the hub file, or a download."""
    start = time.perf_counter()
    label = "torchvision ImageNet VGG19"
    cached = features_cache_path()
    if cached.is_file():
        try:
            state = features_state(read_state_file(cached), "The cached weights")
            return LoadedWeights(_build(state), label, True, time.perf_counter() - start)
        except WeightsError:
            cached.unlink(missing_ok=True)  # a damaged cache is rebuilt from the hub file
    hub = hub_checkpoint_path()
    if not hub.is_file():
        if not allow_download:
            raise WeightsError(missing_weights_message())
        download(url, hub, progress=progress, cancelled=cancelled)
    state = features_state(read_state_file(hub), hub.name)
    try:
        _save_atomic(state, cached)
    except OSError:
        pass  # the cache only saves time; a read-only cache folder is not an error
    return LoadedWeights(_build(state), label, True, time.perf_counter() - start)


def load_file(path: Path) -> LoadedWeights:
    start = time.perf_counter()
    state = features_state(read_state_file(path), path.name)
    return LoadedWeights(_build(state), f"file {path.name}", True, time.perf_counter() - start)


def load_random(seed: int) -> LoadedWeights:
    """Seeded, untrained VGG19 features (Kaiming init as torchvision does) for tests and trials."""
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    features = vgg19_features_skeleton()
    with torch.no_grad():
        for module in features:
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.normal_(0.0, (2.0 / fan_out) ** 0.5, generator=gen)
                module.bias.zero_()
    label = f"random (untrained, seed {seed})"
    return LoadedWeights(features, label, False, time.perf_counter() - start)


def load_weights(
    source: str,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    allow_download: bool = True,
) -> LoadedWeights:
    """Resolve a settings ``weights`` value: 'torchvision', 'random' or a file path."""
    if source == "torchvision":
        return load_torchvision(
            progress=progress, cancelled=cancelled, allow_download=allow_download
        )
    if source == "random":
        return load_random(seed)
    return load_file(Path(source).expanduser())
