"""Fault matrix, hostile or damaged weights and downloads (issue 19): a verified features
cache, a cache that cannot be written, zip bombs, NaN weights, a damaged hub file and its way
out, slow servers and stale partial files. See FAULTS.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch
from faults_helpers import leftovers

from nst_desktop.core import files, weights
from nst_desktop.core.weights import (
    DamagedWeightsError,
    DownloadCancelled,
    WeightsError,
    download,
    features_cache_path,
    hub_checkpoint_path,
    load_torchvision,
    load_weights,
    redownload_torchvision,
)


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    return weights.load_random(11).features.state_dict()


@pytest.fixture(scope="module")
def hub_bytes(tmp_path_factory, state) -> bytes:
    """A torchvision-layout file (features plus a tiny classifier stand-in)."""
    path = tmp_path_factory.mktemp("hub") / "vgg19.pth"
    full = {f"features.{k}": v for k, v in state.items()}
    full["classifier.0.weight"] = torch.zeros(2, 2)
    torch.save(full, path)
    return path.read_bytes()


def _same(features: torch.nn.Sequential, state: dict[str, torch.Tensor]) -> bool:
    got = features.state_dict()
    return all(torch.equal(got[k], state[k]) for k in state)


def _install_hub(data: bytes) -> Path:
    hub = hub_checkpoint_path()
    hub.parent.mkdir(parents=True, exist_ok=True)
    hub.write_bytes(data)
    return hub


def _one_line(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text


# ----------------------------------------------------------------- 2: the cache is verified
def test_flipped_bytes_in_the_features_cache_never_change_a_result(hub_bytes, state):
    hub = _install_hub(hub_bytes)
    assert _same(load_torchvision(allow_download=False).features, state)
    cache = features_cache_path()
    checksum = cache.with_name(cache.name + ".sha256")
    assert checksum.read_text().strip() == hashlib.sha256(cache.read_bytes()).hexdigest()

    data = bytearray(cache.read_bytes())
    middle = len(data) // 2  # inside the tensor data: torch itself loads this without a word
    data[middle : middle + 64] = bytes(b ^ 0x5A for b in data[middle : middle + 64])
    cache.write_bytes(bytes(data))
    assert _same(load_torchvision(allow_download=False).features, state)  # rebuilt from the hub
    assert checksum.read_text().strip() == hashlib.sha256(cache.read_bytes()).hexdigest()

    cache.write_bytes(bytes(data))  # damaged again, and no hub file to rebuild from
    hub.unlink()
    with pytest.raises(WeightsError) as info:
        load_torchvision(allow_download=False)
    assert str(info.value) == weights.missing_weights_message()  # asks for the download
    assert not cache.exists()


# ----------------------------------------------------------------- 3: writing the cache is optional
def test_a_full_cache_disk_does_not_stop_the_run(hub_bytes, state, monkeypatch, caplog):
    _install_hub(hub_bytes)
    real_save = torch.save

    def disk_full(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04partial")
        # what torch.save raises when the disk fills: a RuntimeError, not an OSError
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64")

    monkeypatch.setattr(weights.torch, "save", disk_full)
    monkeypatch.setattr(weights, "_cache_write_failed", False)
    with caplog.at_level(logging.WARNING, logger="nst_desktop.core.weights"):
        first = load_torchvision(allow_download=False)
        second = load_torchvision(allow_download=False)
    assert _same(first.features, state) and _same(second.features, state)
    said = [r.getMessage() for r in caplog.records if "weights cache" in r.getMessage()]
    assert len(said) == 1 and "unexpected pos 64" in said[0]  # logged once
    cache = features_cache_path()
    assert not cache.exists() and leftovers(cache.parent) == []
    monkeypatch.setattr(weights.torch, "save", real_save)


# ----------------------------------------------------------------- 11: zip bombs
def test_a_zip_bomb_weights_file_is_refused_before_loading(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.pth"
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("archive/data/0", "w") as member:
            for _ in range(96):  # 96 MB of zeros in about 100 KB
                member.write(zeros)
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    assert bomb.stat().st_size < 2 << 20
    loads = []
    monkeypatch.setattr(weights.torch, "load", lambda *a, **k: loads.append(a))
    with pytest.raises(WeightsError) as info:
        load_weights(str(bomb))
    text = str(info.value)
    assert text.startswith("bomb.pth declares 0.1 GB of data in a file of 0.")
    assert "so it was not loaded" in text and _one_line(text)
    assert loads == []


def test_an_ordinary_weights_archive_passes_the_size_check(tmp_path, state):
    path = tmp_path / "fine.pth"
    torch.save(state, path)
    assert _same(load_weights(str(path)).features, state)


# ----------------------------------------------------------------- 19: NaN and infinity
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_infinite_weights_are_refused_at_load(tmp_path, state, bad):
    damaged = dict(state)
    damaged["10.weight"] = state["10.weight"].clone()
    damaged["10.weight"][3, 2, 1, 1] = bad
    path = tmp_path / "nan.pth"
    torch.save(damaged, path)
    with pytest.raises(WeightsError) as info:
        load_weights(str(path))
    assert str(info.value) == (
        "nan.pth holds NaN or infinite values (in features.10.weight), so no picture could come "
        "of it; choose another weights file or download it again."
    )


# ----------------------------------------------------------------- 15: a damaged hub file
def test_a_damaged_hub_file_names_its_path_and_can_be_downloaded_again(
    hub_bytes, state, monkeypatch, serve_files
):
    hub = _install_hub(hub_bytes[: len(hub_bytes) // 3])
    with pytest.raises(DamagedWeightsError) as info:
        load_weights("torchvision", allow_download=False)
    text = str(info.value)
    assert info.value.path == hub and _one_line(text)
    assert text.startswith(f"The VGG19 weights file {hub} is damaged: it could not be read")
    assert text.endswith("; delete it and run again to download it anew, or choose another "
                         "weights file.")  # fmt: skip

    server = serve_files({"/vgg19.pth": hub_bytes})
    good_hash = hashlib.sha256(hub_bytes).hexdigest()[:8]
    spec = dataclasses.replace(weights.PUBLISHED["torchvision"], hash_prefix=good_hash)
    monkeypatch.setitem(weights.PUBLISHED, "torchvision", spec)
    loaded = redownload_torchvision(url=server.url + "/vgg19.pth")
    assert _same(loaded.features, state)
    assert hub.read_bytes() == hub_bytes
    assert hub.with_name(hub.name + ".damaged").stat().st_size == len(hub_bytes) // 3


# ----------------------------------------------------------------- 14: pipes as weights
@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")
def test_a_named_pipe_as_weights_is_refused_at_once(tmp_path):
    fifo = tmp_path / "w.pth"
    os.mkfifo(fifo)
    with pytest.raises(WeightsError) as info:
        load_weights(str(fifo))
    assert str(info.value) == "w.pth is a named pipe, not a weights file; choose a file."


# ----------------------------------------------------------------- 13: slow servers, stale parts
PAYLOAD = bytes(range(256)) * 8_000  # 2 MB


def test_cancel_works_while_the_server_sends_nothing(serve_files, tmp_path):
    server = serve_files({"/w.pth": PAYLOAD})
    dest = tmp_path / "dl" / "w.pth"
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            download(server.url + "/stall/w.pth", dest, hash_prefix=None,
                     cancelled=cancel.is_set, timeout=60)  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    time.sleep(0.5)  # the first 1000 bytes are in; the server has gone quiet
    cancel.set()
    thread.join(10)  # the server stays silent for 30 s: only the download's own checks end it
    stuck = thread.is_alive()
    server.release()
    thread.join(30)
    assert not stuck, "Cancel waited for the server"
    assert isinstance(outcome[0], DownloadCancelled)
    assert leftovers(dest.parent) == [] and not dest.exists()


def test_a_silent_server_ends_the_download_with_a_sentence(serve_files, tmp_path):
    server = serve_files({"/w.pth": PAYLOAD})
    dest = tmp_path / "dl" / "w.pth"
    with pytest.raises(WeightsError) as info:
        download(server.url + "/stall/w.pth", dest, hash_prefix=None, timeout=0.5)
    assert str(info.value) == (
        "The server sent nothing for 0.5 seconds, so the download stopped; nothing was kept. "
        "Try again later."
    )
    assert leftovers(dest.parent) == []


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_partial_files_of_a_killed_download_are_removed_on_the_next_attempt(serve_files):
    import fcntl

    server = serve_files({"/w.pth": PAYLOAD})
    hub = hub_checkpoint_path()
    hub.parent.mkdir(parents=True)
    killed = hub.parent / f".{hub.name}.k1ll3d.part"  # what atomic_file leaves on SIGKILL
    killed.write_bytes(PAYLOAD[:5000])
    busy = hub.parent / f".{hub.name}.w0rk1n.part"  # another download still at work
    busy.write_bytes(PAYLOAD[:7000])
    old = time.time() - 3600
    for part in (killed, busy):
        os.utime(part, (old, old))
    with open(busy, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        download(server.url + "/w.pth", hub, hash_prefix=None)
        assert not killed.exists()
        assert busy.exists()  # its writer holds the lock
    assert hub.read_bytes() == PAYLOAD
    assert files.remove_stale_parts(hub) == [busy]  # now its writer is gone too
