"""Stands in for engine.catalog.download: the test session's install() names this module as a
download module, so only code running through it may use a download window."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Callable, Iterable

from engine.policy import allow_downloads


def fetch(url: str, hosts: Iterable[str]) -> bytes:
    """Open a window for ``hosts`` and fetch ``url`` through it."""
    with (
        allow_downloads(hosts, reason="test download"),
        urllib.request.urlopen(url, timeout=10) as response,
    ):
        return bytes(response.read())


def fetch_without_window(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def call_in_window(hosts: Iterable[str], fn: Callable[[], object]) -> object:
    """Run ``fn`` inside a window, with this module on the stack (as a download would)."""
    with allow_downloads(hosts, reason="test download"):
        return fn()


def hold_window(hosts: Iterable[str], opened: threading.Event, release: threading.Event) -> None:
    """Keep a window open (in a worker thread) until ``release`` is set."""
    with allow_downloads(hosts, reason="test download"):
        opened.set()
        release.wait(30)


def bind_loopback(hosts: Iterable[str]) -> None:
    with (
        allow_downloads(hosts, reason="test download"),
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s,
    ):
        s.bind(("127.0.0.1", 0))


def send_datagram(hosts: Iterable[str], host: str, port: int) -> None:
    with (
        allow_downloads(hosts, reason="test download"),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s,
    ):
        s.sendto(b"x", (host, port))
