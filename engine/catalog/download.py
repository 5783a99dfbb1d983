"""Downloading a catalog model: the one module the egress policy lets reach the network.

A download runs only when the person asks for it. In Local-only mode it is refused unless the
caller passes ``consent``: a callable from the person's own action (the CLI's
``--allow-download``, the desktop's Download button) that widens the mode; the mode goes back
to Local-only when the download ends, however it ends. The network is reached only inside a
policy download window naming the hosts of the model's catalog URLs.

- **Resume**: bytes go to ``<file>.part`` in the models folder; a later download (or an
  automatic retry after a dropped connection) asks for the rest with an HTTP ``Range``.
- **Verification**: the sha256 of the whole file must equal the catalog's; when the catalog
  has none, a pinned one (:mod:`engine.catalog.pins`); when there is none either, the digest
  the server declares, which is then pinned. Supported declarations: ``X-Linked-ETag`` (a
  quoted hex sha256; Hugging Face sends it with the redirect to its CDN), ``Repr-Digest``
  (RFC 9530, ``sha-256=:<base64>:``), ``Digest`` (RFC 3230, ``SHA-256=<base64>``), and
  ``Content-Digest`` on a complete (200) response only. With no checksum from anywhere the
  download is refused before a byte is written. A file that fails is removed.
- **Redirects** are followed (at most 5) only to the same host, or from a catalog host to its
  operator's download domains (``REDIRECT_DOMAINS``); each target host gets its own window.
- Plain ``http://`` is accepted only for this computer's loopback addresses (tests); the
  catalog itself allows only ``https://`` URLs.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hashlib
import http.client
import ipaddress
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import engine.policy
from engine.catalog._files import CHUNK, check_free_space
from engine.catalog.catalog import REDIRECT_DOMAINS, CatalogModel
from engine.catalog.gguf_info import check_header
from engine.catalog.installed import find_file, partial_path
from engine.catalog.pins import expected_sha256, pin
from engine.errors import (
    Cancelled,
    ChecksumMismatch,
    DownloadError,
    DownloadsOff,
    ModelError,
    NotEnoughDiskSpace,
    UnverifiableDownload,
)
from engine.paths import ensure_private_dir, fsync_dir, models_dir
from engine.policy import Mode

MAX_REDIRECTS = 5
TIMEOUT_S = 30.0
PROGRESS_INTERVAL_S = 0.1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Progress:
    """How far a download is. ``total`` is 0 until the server says; ``eta_s`` None then."""

    done: int  # bytes in the partial file
    total: int
    speed: float  # bytes/s, over the last few seconds
    eta_s: float | None
    resumed_from: int = 0  # bytes already there when this download started

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


@dataclass(frozen=True)
class DownloadResult:
    model_id: str
    path: Path
    sha256: str
    size: int
    verified_against: str  # "the catalog", "the pinned checksum", "the server's X-Linked-ETag"
    resumed_from: int  # bytes of an earlier partial download that were kept


def download(
    model: CatalogModel,
    *,
    consent: Callable[[], None] | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    retries: int = 3,
    timeout: float = TIMEOUT_S,
) -> DownloadResult:
    """Download ``model`` into the models folder, verify it, and install it atomically.

    ``consent``: called when Local-only mode is on, on the person's explicit go-ahead; it must
    widen the mode (``engine.policy.set_mode(Mode.DOWNLOADS_ALLOWED)`` from a user-action
    module). Without it, Local-only refuses. ``cancel`` stops between chunks and keeps the
    partial file. ``retries``: automatic resumes after a dropped connection.

    Raises: DownloadsOff, DownloadError, UnverifiableDownload, ChecksumMismatch,
    NotEnoughDiskSpace, Cancelled, EgressBlocked, ModelError.
    """
    if not model.urls:
        where = (
            "It ships with Hearth: run scripts/setup.sh."
            if model.source
            else "Import the file you have: hearth models import PATH."
        )
        raise DownloadError(f"The catalog has no download address for {model.label}.", where)
    installed_at = find_file(model)
    if installed_at is not None:
        raise DownloadError(
            f"{model.label} is already installed ({installed_at}).",
            f"Check it with 'hearth models verify {model.id}', or remove it "
            "first to download it again.",
        )
    folder = ensure_private_dir(models_dir())
    part = partial_path(model)
    have = part.stat().st_size if part.exists() else 0
    planned = model.size or model.approx_size
    if planned:
        check_free_space(folder, max(0, planned - have), model.label)

    widened = False
    if engine.policy.current_mode() is Mode.LOCAL_ONLY:
        if consent is None:
            raise DownloadsOff(
                f"Local-only mode is on, so Hearth will not download "
                f"{model.label}. Nothing was written."
            )
        consent()
        widened = True
    try:
        with engine.policy.allow_downloads(model.hosts, reason=model.id):
            return _Download(model, part, progress, cancel, timeout).run(retries)
    finally:
        if widened:
            engine.policy.set_mode(Mode.LOCAL_ONLY)


class _Dropped(Exception):
    """The connection ended before the whole file arrived (retry with Range)."""


@dataclass
class _Response:
    url: str
    status: int
    response: http.client.HTTPResponse
    conn: http.client.HTTPConnection
    digests: dict[str, str]  # header name → hex sha256 declared along the redirect chain


class _Download:
    def __init__(
        self,
        model: CatalogModel,
        part: Path,
        progress: Callable[[Progress], None] | None,
        cancel: threading.Event | None,
        timeout: float,
    ) -> None:
        self.model, self.part = model, part
        self.progress_cb, self.cancel, self.timeout = progress, cancel, timeout
        self.target = part.with_name(model.file)
        self.expected, self.expected_from = expected_sha256(model, model.file)
        self.resumed_from = part.stat().st_size if part.exists() else 0

    # ---- the attempts ------------------------------------------------------------------

    def run(self, retries: int) -> DownloadResult:
        last: Exception | None = None
        for url in self.model.urls:
            for _attempt in range(retries + 1):
                self._check_cancel()
                try:
                    return self._attempt(url)
                except _Dropped as exc:
                    last = exc  # resume from what arrived
                except (OSError, http.client.HTTPException) as exc:
                    if isinstance(exc, engine.policy.EgressBlocked):
                        raise
                    last = exc
                    break  # this address does not answer: try the next URL, if any
        done = self.part.stat().st_size if self.part.exists() else 0
        raise DownloadError(
            f"The download of {self.model.label} stopped after {done:,} bytes ({last})."
        )

    def _attempt(self, url: str) -> DownloadResult:
        offset = self.part.stat().st_size if self.part.exists() else 0
        with self._open(url, offset) as r:
            total, offset = self._check_response(r, offset)
            declared = _one_digest(r.digests)
            if self.expected and declared and declared[1] != self.expected:
                raise DownloadError(
                    f"The server offers a different file than {self.expected_from} names for "
                    f"{self.model.label} (its {declared[0]} is {declared[1]}). Nothing was "
                    "downloaded.",
                    "Report this; the catalog entry may be out of date.",
                )
            if self.expected:
                expected, source = self.expected, self.expected_from
            elif declared:
                expected, source = declared[1], f"the server's {declared[0]}"
            else:
                raise UnverifiableDownload(
                    f"Neither the catalog nor the server gives a checksum for "
                    f"{self.model.label}, so the download cannot be verified."
                )
            check_free_space(self.part.parent, total - offset, self.model.label)
            digest = self._hash_existing(offset)
            self._receive(r.response, digest, offset, total)
        return self._finish(digest.hexdigest(), expected, source, total, pin_it=not self.expected)

    # ---- HTTP --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _open(self, url: str, offset: int) -> Iterator[_Response]:
        digests: dict[str, str] = {}
        with contextlib.ExitStack() as windows:
            allowed_hosts = set(self.model.hosts)
            for _hop in range(MAX_REDIRECTS + 1):
                parts = urlsplit(url)
                host = parts.hostname or ""
                _check_scheme(parts.scheme, host)
                if host not in allowed_hosts:
                    windows.enter_context(
                        engine.policy.allow_downloads({host}, reason=self.model.id)
                    )
                    allowed_hosts.add(host)
                conn = _connection(parts.scheme, host, parts.port, self.timeout)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                headers = {"User-Agent": "Hearth", "Accept-Encoding": "identity"}
                if offset:
                    headers["Range"] = f"bytes={offset}-"
                try:
                    conn.request("GET", path or "/", headers=headers)
                    response = conn.getresponse()
                except BaseException:
                    conn.close()
                    raise
                status = response.status
                digests.update(_declared_digests(response.headers, full=status == 200))
                if status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location", "")
                    response.close()
                    conn.close()
                    url = urljoin(url, location)
                    _check_redirect(self.model, host, url)
                    continue
                try:
                    yield _Response(url, status, response, conn, digests)
                finally:
                    response.close()
                    conn.close()
                return
            raise DownloadError(
                f"The server redirected the download of {self.model.label} "
                f"more than {MAX_REDIRECTS} times."
            )

    def _check_response(self, r: _Response, offset: int) -> tuple[int, int]:
        """(total size, offset the body starts at)."""
        headers = r.response.headers
        if r.status == 416 and offset:
            # The partial file is not a prefix the server recognises: start again.
            self.part.unlink(missing_ok=True)
            self.resumed_from = 0
            raise _Dropped("the server refused to resume; starting again")
        if r.status == 206:
            found = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", headers.get("Content-Range", ""))
            if not found or int(found[1]) != offset:
                raise DownloadError(
                    f"The server answered a resumed download of "
                    f"{self.model.label} with the wrong part of the file."
                )
            total = int(found[3]) if found[3] != "*" else 0
        elif r.status == 200:
            if offset:  # the server ignored Range: the body is the whole file
                offset, self.resumed_from = 0, 0
            total = int(headers.get("Content-Length") or 0)
        else:
            raise DownloadError(
                f"The server answered the download of {self.model.label} "
                f"with {r.status} {r.response.reason}."
            )
        if not total:
            total = self.model.size
        if not total:
            raise DownloadError(f"The server did not say how large {self.model.label} is.")
        if self.model.size and total != self.model.size:
            raise DownloadError(
                f"The server's file for {self.model.label} is {total:,} bytes; "
                f"the catalog says {self.model.size:,}. Nothing was downloaded.",
                "Report this; the catalog entry may be out of date.",
            )
        return total, offset

    # ---- body, hash, install -----------------------------------------------------------

    def _hash_existing(self, offset: int) -> hashlib._Hash:
        digest = hashlib.sha256()
        if not offset:
            return digest
        with self.part.open("rb") as fh:
            remaining = offset
            while remaining:
                self._check_cancel()
                block = fh.read(min(CHUNK, remaining))
                if not block:
                    break
                digest.update(block)
                remaining -= len(block)
        return digest

    def _receive(
        self, response: http.client.HTTPResponse, digest: hashlib._Hash, offset: int, total: int
    ) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if offset else os.O_TRUNC)
        fd = os.open(self.part, flags, 0o600)
        done = offset
        meter = _Meter(self.resumed_from if offset else 0)
        try:
            with os.fdopen(fd, "ab" if offset else "wb") as out:
                self._report(meter, done, total, force=True)
                while done < total:
                    self._check_cancel()
                    try:
                        block = response.read1(CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        raise _Dropped(f"connection lost: {exc}") from None
                    if not block:
                        raise _Dropped(f"the connection closed at byte {done:,} of {total:,}")
                    block = block[: total - done]
                    _write(out, block, self.model)
                    digest.update(block)
                    done += len(block)
                    self._report(meter, done, total)
                out.flush()
                os.fsync(out.fileno())
        finally:
            self._report(meter, done, total, force=True)

    def _finish(
        self, actual: str, expected: str, source: str, total: int, *, pin_it: bool
    ) -> DownloadResult:
        if actual != expected:
            self.part.unlink(missing_ok=True)
            raise ChecksumMismatch(
                f"The downloaded {self.model.label} is damaged or not the expected file: its "
                f"sha256 is {actual}, but {source} says {expected}."
            )
        try:
            check_header(self.part, expected_size=total)
        except ModelError as exc:
            self.part.unlink(missing_ok=True)
            raise ModelError(
                f"The downloaded {self.model.label} is not a usable model "
                f"and was removed: {exc.user_message}"
            ) from None
        os.chmod(self.part, 0o600)
        os.replace(self.part, self.target)
        fsync_dir(self.target.parent)
        if pin_it:
            pin(self.model.file, actual, total, source.removeprefix("the "))
        return DownloadResult(self.model.id, self.target, actual, total, source, self.resumed_from)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled

    def _report(self, meter: _Meter, done: int, total: int, *, force: bool = False) -> None:
        if self.progress_cb is None:
            return
        update = meter.update(done, force=force)
        if update is not None:
            speed = update
            eta = (total - done) / speed if speed > 0 and total else None
            self.progress_cb(Progress(done, total, speed, eta, self.resumed_from))


class _Meter:
    """Speed over a sliding window of a few seconds; throttles progress reports."""

    WINDOW_S = 3.0

    def __init__(self, start: int) -> None:
        now = time.monotonic()
        self.samples: list[tuple[float, int]] = [(now, start)]
        self.last_report = 0.0

    def update(self, done: int, *, force: bool) -> float | None:
        now = time.monotonic()
        if not force and now - self.last_report < PROGRESS_INTERVAL_S:
            return None
        self.last_report = now
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] > self.WINDOW_S:
            self.samples.pop(0)
        t0, d0 = self.samples[0]
        return (done - d0) / (now - t0) if now > t0 else 0.0


def _write(out: BinaryIO, block: bytes, model: CatalogModel) -> None:
    try:
        out.write(block)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NotEnoughDiskSpace(
                f"The disk filled up while downloading {model.label}."
            ) from None
        raise


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_scheme(scheme: str, host: str) -> None:
    if scheme == "https" or (scheme == "http" and _is_loopback(host)):
        return
    raise DownloadError(
        f"Hearth downloads models over https only, not from {scheme}://{host}.",
        "Report this; the catalog entry may be out of date.",
    )


def _check_redirect(model: CatalogModel, from_host: str, url: str) -> None:
    to_host = urlsplit(url).hostname or ""
    if to_host == from_host:
        return
    domains = REDIRECT_DOMAINS.get(from_host, ())
    if any(to_host == d or to_host.endswith("." + d) for d in domains):
        return
    raise DownloadError(
        f"The server sent the download of {model.label} to {to_host}, which is not one of "
        "the catalog's download hosts; Hearth did not follow it.",
        "Report this; the catalog entry may be out of date.",
    )


def _connection(
    scheme: str, host: str, port: int | None, timeout: float
) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _declared_digests(headers: http.client.HTTPMessage, *, full: bool) -> dict[str, str]:
    """Hex sha256 values a response declares, by header name."""
    found: dict[str, str] = {}
    etag = headers.get("X-Linked-ETag", "").strip()
    etag = etag.removeprefix("W/").strip('"').lower()
    if _HEX64.match(etag):
        found["X-Linked-ETag"] = etag
    names = ["Repr-Digest", "Digest"] + (["Content-Digest"] if full else [])
    for name in names:
        for item in headers.get(name, "").split(","):
            algo, _, value = item.strip().partition("=")
            if algo.strip().lower() != "sha-256":
                continue
            hexed = _b64_to_hex(value.strip().strip(":"))
            if hexed:
                found[name] = hexed
    return found


def _b64_to_hex(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return ""
    return raw.hex() if len(raw) == 32 else ""


def _one_digest(digests: dict[str, str]) -> tuple[str, str] | None:
    """(header, hex) when the server declared a sha256; conflicting declarations fail."""
    if not digests:
        return None
    if len(set(digests.values())) > 1:
        raise DownloadError(
            "The server declared conflicting checksums "
            f"({', '.join(sorted(digests))}); Hearth did not download the file."
        )
    name = next(iter(digests))
    return name, digests[name]
