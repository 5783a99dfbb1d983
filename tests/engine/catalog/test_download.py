"""Downloads against a real HTTP server on loopback (a child process with Range support),
through the real egress policy: the loopback address plays the catalog's host."""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import os
import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import engine.policy
from engine.catalog import Catalog, CatalogModel
from engine.catalog import download as download_module
from engine.catalog.download import Progress, download, partial_path
from engine.catalog.pins import pinned, pins_path
from engine.errors import (
    Cancelled,
    ChecksumMismatch,
    DownloadError,
    DownloadsOff,
    NotEnoughDiskSpace,
    UnverifiableDownload,
)
from engine.paths import models_dir
from engine.policy import Action, Mode
from tests.engine.catalog._gguf_files import write_gguf
from tests.engine.catalog._serve import range_server

TINY_BYTES = 3 << 20  # about 3 MB: several chunks, fast


def allow_this_download() -> None:
    """The person's go-ahead (here, the test acting as the person)."""
    engine.policy.set_mode(Mode.DOWNLOADS_ALLOWED)


@pytest.fixture
def served(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    folder.mkdir()
    write_gguf(folder / "tiny.gguf", tensor_bytes=TINY_BYTES)
    return folder


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entry(
    catalog: Catalog, url: str, path: Path, *, sha256: str | None = None, size: int | None = None
) -> CatalogModel:
    return dataclasses.replace(
        catalog.default,
        id="tiny-test",
        name="Tiny",
        quantization="F16",
        file=path.name,
        urls=(url,),
        source="",
        approx_size=0,
        size=path.stat().st_size if size is None else size,
        sha256=sha256_of(path) if sha256 is None else sha256,
    )


def network_entries(egress) -> list:
    return [e for e in egress.entries() if e.action in (Action.DNS, Action.CONNECT)]


def test_full_download_of_the_starter_model(
    catalog: Catalog, starter_model_path: Path, tmp_path: Path, monkeypatch, egress
):
    monkeypatch.setenv("HEARTH_BUNDLED_MODELS", str(tmp_path / "no-bundled-models"))
    served = tmp_path / "served"
    served.mkdir()
    os.link(starter_model_path, served / starter_model_path.name)
    with range_server(served) as server:
        model = dataclasses.replace(catalog.default, urls=(server.url(catalog.default.file),))
        seen: list[Progress] = []
        result = download(model, consent=allow_this_download, progress=seen.append)
    assert result.path == models_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert result.sha256 == catalog.default.sha256 == sha256_of(result.path)
    assert result.size == 98_362_432 and result.verified_against == "the catalog"
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert not partial_path(model).exists()
    assert seen[-1].done == seen[-1].total == 98_362_432 and seen[-1].eta_s == 0
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY  # back after the download
    net = network_entries(egress)
    assert net and all(e.allowed and e.module == "engine.catalog.download" for e in net)
    assert {e.mode for e in net} == {Mode.DOWNLOADS_ALLOWED}


def test_download_is_refused_in_local_only_mode_without_consent(catalog: Catalog, served, egress):
    with range_server(served) as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        with pytest.raises(DownloadsOff) as info:
            download(model)
        assert server.requests() == []
    assert "Local-only mode is on" in info.value.user_message
    assert "--allow-download" in info.value.next_step
    assert not models_dir().exists() or not any(models_dir().iterdir())
    assert network_entries(egress) == []
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY


def test_resume_after_the_server_drops_the_connection(catalog: Catalog, served, egress):
    source = served / "tiny.gguf"
    with range_server(served, "--drop-after", "300000") as server:
        model = entry(catalog, server.url("tiny.gguf"), source)
        with pytest.raises(DownloadError) as info:
            download(model, consent=allow_this_download, retries=0)
        assert "resumes where it stopped" in info.value.next_step
        assert engine.policy.current_mode() is Mode.LOCAL_ONLY  # back, even on error
        part = partial_path(model)
        assert part.stat().st_size == 300000
        assert part.read_bytes() == source.read_bytes()[:300000]

        result = download(model, consent=allow_this_download)
        assert server.requests() == ["GET /tiny.gguf -", "GET /tiny.gguf bytes=300000-"]
    assert result.resumed_from == 300000
    assert result.path.read_bytes() == source.read_bytes()
    assert not part.exists()


def test_a_dropped_connection_is_resumed_automatically(catalog: Catalog, served):
    with range_server(served, "--drop-after", "1000000") as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        result = download(model, consent=allow_this_download, retries=1)
        assert server.requests() == ["GET /tiny.gguf -", "GET /tiny.gguf bytes=1000000-"]
    assert sha256_of(result.path) == model.sha256


def test_a_server_that_ignores_range_restarts_from_the_beginning(catalog: Catalog, served):
    with range_server(served, "--drop-after", "500000", "--ignore-range") as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        result = download(model, consent=allow_this_download, retries=1)
    assert result.resumed_from == 0
    assert sha256_of(result.path) == model.sha256


def test_a_wrong_hash_is_rejected_and_the_file_removed(catalog: Catalog, served):
    with range_server(served) as server:
        model = entry(
            catalog,
            server.url("tiny.gguf"),
            served / "tiny.gguf",
            sha256=hashlib.sha256(b"another file").hexdigest(),
        )
        with pytest.raises(ChecksumMismatch) as info:
            download(model, consent=allow_this_download)
    assert "damaged or not the expected file" in info.value.user_message
    assert "removed" in info.value.next_step
    assert not (models_dir() / "tiny.gguf").exists()
    assert not partial_path(model).exists()
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY


@pytest.mark.parametrize(
    ("options", "path", "header"),
    [
        # Hugging Face's way: the sha256 as X-Linked-ETag on the redirect to the file's host.
        (
            ("--digest", "x-linked-etag", "--digest-on-redirect-only"),
            "r/tiny.gguf",
            "X-Linked-ETag",
        ),
        (("--digest", "repr-digest"), "tiny.gguf", "Repr-Digest"),
        (("--digest", "digest"), "tiny.gguf", "Digest"),
    ],
)
def test_without_a_catalog_checksum_the_servers_digest_is_verified_and_pinned(
    catalog: Catalog, served, options, path, header
):
    source = served / "tiny.gguf"
    with range_server(served, *options) as server:
        model = entry(catalog, server.url(path), source, sha256="", size=0)
        result = download(model, consent=allow_this_download)
    assert result.verified_against == f"the server's {header}"
    assert result.sha256 == sha256_of(source)
    pin = pinned("tiny.gguf")
    assert pin is not None and (pin.sha256, pin.size) == (result.sha256, source.stat().st_size)
    assert pin.source == f"server's {header}"
    assert stat.S_IMODE(pins_path().stat().st_mode) == 0o600


def test_a_wrong_server_digest_is_rejected_and_the_file_removed(catalog: Catalog, served):
    with range_server(served, "--digest", "repr-digest", "--wrong-digest") as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf", sha256="", size=0)
        with pytest.raises(ChecksumMismatch):
            download(model, consent=allow_this_download)
    assert not (models_dir() / "tiny.gguf").exists() and not partial_path(model).exists()
    assert pinned("tiny.gguf") is None


def test_a_redirect_to_a_host_the_catalog_does_not_name_is_not_followed(
    catalog: Catalog, served, egress
):
    with range_server(served, "--redirect-host", "localhost") as server:
        model = entry(catalog, server.url("r/tiny.gguf"), served / "tiny.gguf")
        with pytest.raises(DownloadError, match="not one of the catalog's download hosts"):
            download(model, consent=allow_this_download)
        assert server.requests() == ["GET /r/tiny.gguf -"]
    assert "localhost" not in {e.host for e in network_entries(egress)}
    assert not partial_path(model).exists()


def test_no_checksum_anywhere_is_refused_before_writing(catalog: Catalog, served):
    with range_server(served) as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf", sha256="", size=0)
        with pytest.raises(UnverifiableDownload):
            download(model, consent=allow_this_download)
    assert not partial_path(model).exists() and not (models_dir() / "tiny.gguf").exists()


def test_cancel_keeps_the_partial_file(catalog: Catalog, served):
    cancel = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.done >= 256 * 1024:
            cancel.set()

    with range_server(served, "--delay", "0.01") as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        with pytest.raises(Cancelled):
            download(model, consent=allow_this_download, progress=on_progress, cancel=cancel)
    kept = partial_path(model).stat().st_size
    assert 256 * 1024 <= kept < model.size
    assert not (models_dir() / "tiny.gguf").exists()
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY


def test_progress_reports_speed_and_eta(catalog: Catalog, served):
    seen: list[Progress] = []
    with range_server(served, "--delay", "0.01") as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        download(model, consent=allow_this_download, progress=seen.append)
    assert len(seen) >= 3
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    middle = [p for p in seen if 0 < p.done < p.total]
    assert middle and all(p.speed > 0 and p.eta_s is not None and p.eta_s > 0 for p in middle)
    assert seen[-1].fraction == 1.0


# ---- disk space: a real, small tmpfs as the data folder ------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    if _libc.mount(b"tmpfs", os.fsencode(mnt), b"tmpfs", 0, b"size=2M,mode=0700") != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    monkeypatch.setenv("XDG_DATA_HOME", str(mnt))
    try:
        yield mnt
    finally:
        _libc.umount2(os.fsencode(mnt), 2)  # MNT_DETACH


def test_not_enough_disk_space_is_refused_before_connecting(
    catalog: Catalog, served, small_disk, egress
):
    with range_server(served) as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        with pytest.raises(NotEnoughDiskSpace) as info:
            download(model, consent=allow_this_download)
        assert server.requests() == []
    assert "Not enough disk space" in info.value.user_message
    assert str(small_disk) in info.value.user_message
    assert shutil.disk_usage(small_disk).free > 0
    assert not partial_path(model).exists()
    assert network_entries(egress) == []


def test_unknown_size_is_checked_once_the_server_says(catalog: Catalog, served, small_disk):
    with range_server(served) as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf", size=0)
        with pytest.raises(NotEnoughDiskSpace):
            download(model, consent=allow_this_download)
        assert server.requests() == ["GET /tiny.gguf -"]
    assert not partial_path(model).exists()


def test_a_disk_that_fills_during_the_download_is_a_clear_error(
    catalog: Catalog, served, small_disk, monkeypatch
):
    # The check passes (as if another program filled the disk afterwards): the kernel's
    # ENOSPC on a real tmpfs becomes NotEnoughDiskSpace, and the partial file is kept.
    monkeypatch.setattr(download_module, "check_free_space", lambda *_a: None)
    with range_server(served) as server:
        model = entry(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        with pytest.raises(NotEnoughDiskSpace, match="filled up"):
            download(model, consent=allow_this_download)
    assert 0 < partial_path(model).stat().st_size < model.size
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY


def test_the_embedding_model_downloads_like_a_chat_model_and_is_then_used(
    catalog: Catalog, starter_model_path: Path, tmp_path: Path, egress
):
    from engine.docs import open_catalog_embedder

    (embedding,) = catalog.embedders
    assert embedding.sha256 == "" and embedding.size == 0  # unconfirmed: the server's digest
    served = tmp_path / "served"
    served.mkdir()
    # The real file is not reachable from here; any GGUF runs in embedding mode, so the
    # starter model is served under the embedding model's name, the way Hugging Face serves.
    os.link(starter_model_path, served / embedding.file)  # r/… redirects to it
    options = ("--digest", "x-linked-etag", "--digest-on-redirect-only")
    with range_server(served, *options) as server:
        model = dataclasses.replace(embedding, urls=(server.url(f"r/{embedding.file}"),))
        with pytest.raises(DownloadsOff):  # Local-only holds without the person's go-ahead
            download(model, consent=None)
        result = download(model, consent=allow_this_download)
    assert result.path == models_dir() / embedding.file
    assert result.verified_against == "the server's X-Linked-ETag"
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY
    embedder = open_catalog_embedder(catalog)
    assert embedder is not None
    with embedder:
        assert embedder.model_id == embedding.id
        assert embedder.embed_query("When is the tax return due?").shape == (embedder.dimensions,)
