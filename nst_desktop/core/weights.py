"""Where the VGG19 weights come from: a published file (downloaded once), a user file, or random.

Two files are published with a URL and a hash: torchvision's ImageNet VGG19 and the Caffe VGG19
that neural-style converted (``vgg19-d01eb7cb.pth``; the same ``features.N`` keys, but trained on
BGR 0-255 input minus the Caffe mean). Each is 548 MB, of which the convolutional features are
80 MB. After the first load we keep a features-only copy in the app's cache, so later starts
read 80 MB, not 548 MB. The features come back as a :class:`VGG19Body` that carries its input
convention, and the label names the weights (shown to the user and embedded in pictures).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
import pickle
import queue
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .files import (
    NotARegularFileError,
    atomic_file,
    check_regular,
    open_regular,
    remove_stale_parts,
    write_bytes,
)
from .model import VGG19Body, vgg19_features_skeleton
from .paths import cache_dir

TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
TORCHVISION_FILENAME = "vgg19-dcbb9e9d.pth"
#: torch.hub convention: the file name carries the first hex digits of the file's SHA-256.
TORCHVISION_HASH_PREFIX = "dcbb9e9d"
#: The Caffe VGG19 as neural-style-pt downloads it (its name, too, carries the hash prefix).
CAFFE_URL = "https://web.eecs.umich.edu/~justincj/models/vgg19-d01eb7cb.pth"
CAFFE_FILENAME = "vgg19-d01eb7cb.pth"
CAFFE_HASH_PREFIX = "d01eb7cb"

#: A weights archive may declare at most this much more data than the file holds: torch writes
#: its tensors uncompressed, so only a crafted archive (a "zip bomb") declares more.
ZIP_SLACK_BYTES = 64 << 20
#: How often a download checks Cancel while it waits for the server.
POLL_S = 0.1

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total or 0 when unknown)."""

log = logging.getLogger(__name__)


class WeightsError(Exception):
    """The weights cannot be had; the message tells the user what to do."""


class DownloadCancelled(WeightsError):
    def __init__(self) -> None:
        super().__init__("The download was cancelled; nothing was saved.")


@dataclass(frozen=True)
class Published:
    """A VGG19 file with a published URL and SHA-256 prefix (keyed by its settings value)."""

    label: str
    url: str
    filename: str
    hash_prefix: str
    convention: str


PUBLISHED: dict[str, Published] = {
    "torchvision": Published(
        "torchvision ImageNet VGG19",
        TORCHVISION_URL,
        TORCHVISION_FILENAME,
        TORCHVISION_HASH_PREFIX,
        "torchvision",
    ),
    "caffe": Published("Caffe VGG19", CAFFE_URL, CAFFE_FILENAME, CAFFE_HASH_PREFIX, "caffe"),
}
#: Remembered SHA-256 of weights files by path, size and modification time.
HASHES_NAME = "weights-sha256.json"
MAX_HASHES = 64
MAX_HASH_RECORD_BYTES = 64 * 1024


class DamagedWeightsError(WeightsError):
    """The published file (:attr:`source`) at :attr:`path` cannot be used; :func:`redownload`
    sets it aside and downloads it again (the window offers that as a button)."""

    def __init__(self, path: Path, reason: str, source: str = "torchvision") -> None:
        self.path = path
        self.source = source
        super().__init__(
            f"The VGG19 weights file {path} is damaged: it {reason}; delete it and run again to "
            "download it anew, or choose another weights file."
        )


@dataclass
class LoadedWeights:
    features: VGG19Body
    #: What the user sees and pictures embed: "torchvision ImageNet VGG19", "Caffe VGG19",
    #: "file x.pth (SHA-256 1a2b3c4d)" or "random (untrained, seed 0)".
    label: str
    trained: bool
    seconds: float


def hub_checkpoint_path(source: str = "torchvision") -> Path:
    """Where torch.hub keeps (or would keep) a published file; TORCH_HOME is honoured."""
    return Path(torch.hub.get_dir()) / "checkpoints" / PUBLISHED[source].filename


def features_cache_path(source: str = "torchvision") -> Path:
    return cache_dir() / f"vgg19-features-{PUBLISHED[source].hash_prefix}.pt"


def torchvision_weights_available() -> bool:
    """True when loading the torchvision weights needs no download."""
    return published_weights_available("torchvision")


def published_weights_available(source: str) -> bool:
    """True when loading a published file ('torchvision' or 'caffe') needs no download."""
    return features_cache_path(source).is_file() or hub_checkpoint_path(source).is_file()


def missing_weights_message(source: str = "torchvision") -> str:
    what = "The VGG19" if source == "torchvision" else f"The {PUBLISHED[source].label}"
    return (
        f"{what} weights are not on this computer and could not be downloaded. Download "
        f"{PUBLISHED[source].url} and put it at {hub_checkpoint_path(source)}, or choose a "
        "weights file (--weights PATH)."
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
    source: str = "torchvision",
) -> Path:
    """Download ``url`` to ``dest`` through a temporary file, verifying its SHA-256 prefix.

    The file appears at ``dest`` only complete and verified; an interruption, a cancel or a
    bad hash leaves nothing behind, and what a killed download left is removed first. Cancel
    is honoured within :data:`POLL_S` even while the server sends nothing, and ``timeout``
    seconds without data end the download.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(dest)
    sha = hashlib.sha256()
    try:
        with atomic_file(dest) as out, contextlib.closing(_fetch(url, timeout, cancelled)) as body:
            total = next(body)
            done = reported = 0
            for chunk in body:
                out.write(chunk)
                sha.update(chunk)
                done += len(chunk)
                if progress is not None and (done - reported >= 1 << 20 or done == total):
                    progress(done, total)
                    reported = done
            if progress is not None and done != reported:
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
    except TimeoutError:
        raise WeightsError(
            f"The server sent nothing for {timeout:g} seconds, so the download stopped; "
            "nothing was kept. Try again later."
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise WeightsError(f"{missing_weights_message(source)} ({_reason(exc)})") from None


def _fetch(url: str, timeout: float, cancelled: Callable[[], bool] | None) -> Iterator:
    """Yield the size the server announces (0: none), then the body in chunks.

    A helper thread does all the network work (name lookup, connection, every read), so the
    caller waits at most :data:`POLL_S` between checks of ``cancelled`` and at most ``timeout``
    for data, whatever the server does. The thread closes the connection when it ends.
    """
    items: queue.Queue = queue.Queue(maxsize=8)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                if not put(int(resp.headers.get("Content-Length") or 0)):
                    return
                while not stop.is_set():
                    chunk = resp.read1(1 << 20)  # what has arrived: a trickle still counts
                    if not put(chunk) or not chunk:
                        return
        except BaseException as exc:  # noqa: BLE001 - handed over to the caller's thread
            put(exc)

    threading.Thread(target=reader, name="nst-download", daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            if cancelled is not None and cancelled():
                raise DownloadCancelled()
            try:
                item = items.get(timeout=POLL_S)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError from None
                continue
            deadline = time.monotonic() + timeout
            if isinstance(item, BaseException):
                raise item
            if item == b"":
                return
            yield item
    finally:
        stop.set()


def _reason(exc: BaseException) -> str:
    """Why a download failed, in words: no "[Errno -2]", a name for a lookup that failed."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, socket.gaierror):
        return "no network, or the server's name is not known here"
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(getattr(reason, "strerror", None) or reason))
    return text.strip() or type(exc).__name__


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
        raise WeightsError(
            f"{source}: this is not a VGG19 weights file; choose a torchvision VGG19 .pth file."
        )
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
            f"{source}: this is not a VGG19 weights file (missing {len(missing)} of "
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
        # amax carries a NaN or an infinity through; 20x faster than isfinite().all() here
        if not bool(torch.isfinite(out[key].detach().abs().amax())):
            raise WeightsError(
                f"{source} holds NaN or infinite values (in features.{key}), so no picture could "
                "come of it; choose another weights file or download it again."
            )
    return out


def read_state_file(path: Path) -> object:
    """``torch.load`` with ``weights_only=True``: a file cannot run code on load.

    Only regular files are read, and a zip archive's declared sizes are checked first, so a
    small crafted file cannot make the loader inflate gigabytes.
    """
    try:
        size = check_regular(path).st_size
        if size == 0:
            raise WeightsError(f"{path.name} is empty (0 bytes); download it again.")
        _check_declared_sizes(path, size)
        with warnings.catch_warnings():
            # torch warns on stderr about pickle protocols it may not support; the outcome is
            # what counts (the CLI's contract is one line on stderr), and failures follow.
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except FileNotFoundError:
        raise WeightsError(f"Weights file {path} does not exist; check the path.") from None
    except IsADirectoryError:
        raise WeightsError(f"{path} is a folder; choose a weights file inside it.") from None
    except NotARegularFileError as exc:
        raise WeightsError(
            f"{path.name} is {exc.kind}, not a weights file; choose a file."
        ) from None
    except pickle.UnpicklingError:
        raise WeightsError(
            f"{path.name} is not a VGG19 weights file: it holds more than plain numbers, so it "
            "was not opened, for safety; choose a torchvision VGG19 .pth file."
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WeightsError(
            f"{path.name} could not be read as a weights file (it may be truncated or not a "
            f"PyTorch file: {_first_line(exc)}); download it again."
        ) from None
    except Exception as exc:  # noqa: BLE001 - garbage bytes make the unpickler raise anything
        raise WeightsError(
            f"{path.name} is not a PyTorch weights file ({type(exc).__name__}); choose a "
            "torchvision VGG19 .pth file."
        ) from None


def _check_declared_sizes(path: Path, size: int) -> None:
    """Refuse a zip archive that declares far more data than it holds (a "zip bomb")."""
    with open_regular(path) as f:
        if not zipfile.is_zipfile(f):
            return  # torch's older format: its data is stored as it is, nothing to inflate
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as archive:
                declared = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, OverflowError, EOFError):
            return  # torch.load refuses it with its own words
    if declared > size + ZIP_SLACK_BYTES:
        raise WeightsError(
            f"{path.name} declares {declared / 2**30:.1f} GB of data in a file of "
            f"{size / 2**20:.1f} MB, so it was not loaded (weights files are not compressed); "
            "choose a torchvision VGG19 .pth file."
        )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:120] if lines else type(exc).__name__


def _build(state: dict[str, torch.Tensor], convention: str = "torchvision") -> VGG19Body:
    features = vgg19_features_skeleton(convention)
    features.load_state_dict({k: v.float() for k, v in state.items()})
    return features


def _save_atomic(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as out:
        torch.save(obj, out)


def _checksum_path(cache: Path) -> Path:
    return cache.with_name(cache.name + ".sha256")


def _file_sha256(path: Path) -> str:
    with open_regular(path) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _read_cache(cache: Path) -> dict[str, torch.Tensor] | None:
    """The cached features when the file matches the checksum written beside it, else None.

    Any bit flipped on the disk would otherwise change every later picture without a word.
    """
    if not cache.is_file():
        return None
    try:
        want = _checksum_path(cache).read_text(encoding="ascii").strip()
        intact = len(want) == 64 and _file_sha256(cache) == want
        state = features_state(read_state_file(cache), "The cached weights") if intact else None
    except (OSError, UnicodeDecodeError, WeightsError):
        state = None
    if state is None:
        log.warning("The weights cache %s is damaged; it is rebuilt from the full file.", cache)
        for stale in (cache, _checksum_path(cache)):
            stale.unlink(missing_ok=True)
    return state


_cache_write_failed = False


def _write_cache(state: dict[str, torch.Tensor], cache: Path) -> None:
    """Keep the features for fast starts; a failure (a full or read-only disk) costs only time.

    torch.save reports a full disk as RuntimeError, not OSError. It is logged once per run of
    the program, and the run goes on.
    """
    global _cache_write_failed
    try:
        _save_atomic(state, cache)
        write_bytes(_checksum_path(cache), (_file_sha256(cache) + "\n").encode("ascii"))
    except (OSError, RuntimeError) as exc:
        for partial in (cache, _checksum_path(cache)):
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        if not _cache_write_failed:
            _cache_write_failed = True
            log.warning(
                "Could not keep the weights cache at %s (%s); each start reads the full file.",
                cache,
                _first_line(exc),
            )


def load_torchvision(
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    allow_download: bool = True,
    url: str = TORCHVISION_URL,
) -> LoadedWeights:
    """The ImageNet VGG19 features, from the verified cache, the hub file, or a download.

    A damaged hub file raises :class:`DamagedWeightsError` (naming it; see
    :func:`redownload_torchvision`).
    """
    return load_published(
        "torchvision",
        progress=progress,
        cancelled=cancelled,
        allow_download=allow_download,
        url=url,
    )


def load_published(
    source: str,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    allow_download: bool = True,
    url: str | None = None,
) -> LoadedWeights:
    """A published VGG19's features ('torchvision' or 'caffe'): cache, hub file or download."""
    start = time.perf_counter()
    spec = PUBLISHED[source]
    cached = features_cache_path(source)
    state = _read_cache(cached)
    if state is not None:
        features = _build(state, spec.convention)
        return LoadedWeights(features, spec.label, True, time.perf_counter() - start)
    hub = hub_checkpoint_path(source)
    if not hub.is_file():
        if not allow_download:
            raise WeightsError(missing_weights_message(source))
        download(
            url or spec.url,
            hub,
            hash_prefix=spec.hash_prefix,
            progress=progress,
            cancelled=cancelled,
            source=source,
        )
    try:
        state = features_state(read_state_file(hub), hub.name)
    except WeightsError as exc:
        raise DamagedWeightsError(hub, _short_reason(exc, hub.name), source) from None
    _write_cache(state, cached)
    features = _build(state, spec.convention)
    return LoadedWeights(features, spec.label, True, time.perf_counter() - start)


def redownload_torchvision(
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    url: str = TORCHVISION_URL,
) -> LoadedWeights:
    """:func:`redownload` of the torchvision file."""
    return redownload("torchvision", progress=progress, cancelled=cancelled, url=url)


def redownload(
    source: str,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    url: str | None = None,
) -> LoadedWeights:
    """Set a damaged hub file aside (``NAME.damaged``, replacing an older one), drop the cache,
    and download the file again: the way out of :class:`DamagedWeightsError`."""
    hub = hub_checkpoint_path(source)
    cache = features_cache_path(source)
    try:
        if hub.exists():
            os.replace(hub, hub.with_name(hub.name + ".damaged"))
        for stale in (cache, _checksum_path(cache)):
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise WeightsError(
            f"Could not set the damaged file {hub} aside ({exc.strerror or exc}); delete it by "
            "hand and try again."
        ) from None
    return load_published(source, progress=progress, cancelled=cancelled, url=url)


def _short_reason(exc: BaseException, name: str) -> str:
    """The cause for a damaged-file message: the first clause of the loader's sentence."""
    return str(exc).split(";")[0].removeprefix(name + " ").rstrip(".")[:200]


def load_file(path: Path, fmt: str = "auto") -> LoadedWeights:
    """A user's VGG19 file, read as taking the input ``fmt`` says.

    'auto' knows the published files by their SHA-256, and neural-style-pt's copy of the Caffe
    file (re-saved with renamed classifier keys, so another hash) by its name; any other file
    takes torchvision's input.
    """
    start = time.perf_counter()
    state = features_state(read_state_file(path), path.name)
    digest = file_sha256(path)
    known = next((p for p in PUBLISHED.values() if digest.startswith(p.hash_prefix)), None)
    if fmt != "auto":
        convention = fmt
    elif known is not None:
        convention = known.convention
    else:
        convention = "caffe" if path.name == CAFFE_FILENAME else "torchvision"
    notes = [f"file {path.name}"] if known else [f"SHA-256 {digest[:8]}"]
    if convention != (known.convention if known else "torchvision"):
        notes.append(f"{'Caffe' if convention == 'caffe' else 'torchvision'} input")
    name = known.label if known else f"custom weights {path.name}"
    label = f"{name} ({', '.join(notes)})"
    features = _build(state, convention)
    return LoadedWeights(features, label, True, time.perf_counter() - start)


def load_random(seed: int, convention: str = "torchvision") -> LoadedWeights:
    """Seeded, untrained VGG19 features (Kaiming init as torchvision does) for tests and trials."""
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    features = vgg19_features_skeleton(convention)
    with torch.no_grad():
        for module in features:
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.normal_(0.0, (2.0 / fan_out) ** 0.5, generator=gen)
                module.bias.zero_()
    caffe = ", Caffe input" if convention == "caffe" else ""
    label = f"random (untrained, seed {seed}{caffe})"
    return LoadedWeights(features, label, False, time.perf_counter() - start)


# --------------------------------------------------------------------------- checking a choice
CUSTOM_SENTENCE = (
    "Custom weights: a VGG19, but not the published ImageNet or Caffe file. It runs; the presets "
    "and looks were tuned on the published networks, and a network trained on other pictures "
    "(or not trained) paints other, often muddy, pictures."
)


@dataclass(frozen=True)
class WeightsCheck:
    """What a chosen weights file is: a published network (by its SHA-256) or custom."""

    published: str | None  # "torchvision" / "caffe", None: custom weights
    label: str  # "ImageNet VGG19 (torchvision)", "custom weights x.pth"
    sentence: str  # "" for a published file


def check_weights_file(path: Path) -> WeightsCheck:
    """Check a file when it is chosen: a VGG19 state dict (else :class:`WeightsError`, "this is
    not a VGG19 weights file"), and whether its hash is a published file's."""
    features_state(read_state_file(path), path.name)
    digest = file_sha256(path)
    for key, spec in PUBLISHED.items():
        if digest.startswith(spec.hash_prefix):
            return WeightsCheck(key, spec.label, "")
    return WeightsCheck(None, f"custom weights {path.name}", CUSTOM_SENTENCE)


# --------------------------------------------------------------------------- file hashes
def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, remembered by path, size and modification time.

    Hashing a 548 MB file takes seconds; a file that has not changed is not hashed again.
    """
    try:
        st = check_regular(path)
        key = str(path.resolve())
    except OSError as exc:
        raise WeightsError(f"{path.name} cannot be read ({_first_line(exc)}).") from None
    stamp = [st.st_size, st.st_mtime_ns]
    known = _read_hashes()
    entry = known.get(key)
    if isinstance(entry, list) and len(entry) == 3 and entry[:2] == stamp:
        if isinstance(entry[2], str) and re.fullmatch(r"[0-9a-f]{64}", entry[2]):
            return entry[2]
    try:
        digest = _file_sha256(path)
    except OSError as exc:
        raise WeightsError(f"{path.name} cannot be read ({_first_line(exc)}).") from None
    known.pop(key, None)
    known[key] = [*stamp, digest]
    text = json.dumps(known)
    while len(known) > MAX_HASHES or len(text) > MAX_HASH_RECORD_BYTES:  # oldest first
        known.pop(next(iter(known)))
        text = json.dumps(known)
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        write_bytes(cache_dir() / HASHES_NAME, text.encode("utf-8"))
    except OSError:
        pass  # remembering only saves time
    return digest


def _read_hashes() -> dict[str, Any]:
    path = cache_dir() / HASHES_NAME
    try:
        if path.stat().st_size > MAX_HASH_RECORD_BYTES:
            return {}
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def load_weights(
    source: str,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    allow_download: bool = True,
    fmt: str = "auto",
) -> LoadedWeights:
    """Resolve the ``weights`` and ``weights_format`` settings.

    ``source`` is 'torchvision', 'caffe' (each with its own input convention), 'random' or a
    file path; ``fmt`` ('auto', 'torchvision' or 'caffe') is the input a file or the random
    network takes.
    """
    if source == "torchvision":
        return load_torchvision(
            progress=progress, cancelled=cancelled, allow_download=allow_download
        )
    if source in PUBLISHED:
        return load_published(
            source, progress=progress, cancelled=cancelled, allow_download=allow_download
        )
    if source == "random":
        return load_random(seed, "caffe" if fmt == "caffe" else "torchvision")
    return load_file(Path(source).expanduser(), fmt)
