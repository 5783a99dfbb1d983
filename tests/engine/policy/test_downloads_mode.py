"""Downloads-allowed mode: only the catalog's hosts, only from the download code, only while a
download runs. The "catalog host" here is the loopback address of a test server."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import engine.policy
from engine.policy import Action, EgressBlocked, Mode
from tests.engine.policy import _fake_download
from tests.engine.policy._loopback import http_server


@pytest.fixture
def server(tmp_path: Path):
    (tmp_path / "model.gguf").write_bytes(b"GGUF" + bytes(100))
    with http_server(tmp_path) as srv:
        yield srv


def test_allowlisted_host_passes_from_the_download_code(server, egress):
    with egress.mode(Mode.DOWNLOADS_ALLOWED):
        data = _fake_download.fetch(server.url + "model.gguf", hosts={server.host})
    assert data == b"GGUF" + bytes(100)
    network = [e for e in egress.entries() if e.action in (Action.DNS, Action.CONNECT)]
    assert [(e.action, e.host, e.port, e.allowed) for e in network] == [
        (Action.DNS, server.host, server.port, True),
        (Action.CONNECT, server.host, server.port, True),
    ]
    assert {e.module for e in network} == {"tests.engine.policy._fake_download"}
    assert {e.mode for e in network} == {Mode.DOWNLOADS_ALLOWED}


def test_a_host_the_catalog_does_not_name_is_blocked(server, egress):
    with egress.mode(Mode.DOWNLOADS_ALLOWED), pytest.raises(urllib.error.URLError) as info:
        _fake_download.fetch(f"http://localhost:{server.port}/model.gguf", hosts={"127.0.0.1"})
    assert isinstance(info.value.reason, EgressBlocked)
    assert "localhost is not a host the model catalog names" in str(info.value.reason)
    assert [(e.action, e.host) for e in egress.blocked()] == [(Action.DNS, "localhost")]


def test_only_the_download_code_may_use_an_open_window(server, egress):
    opened, release = threading.Event(), threading.Event()
    with egress.mode(Mode.DOWNLOADS_ALLOWED):
        worker = threading.Thread(
            target=_fake_download.hold_window, args=({server.host}, opened, release)
        )
        worker.start()
        try:
            assert opened.wait(10)
            with pytest.raises(urllib.error.URLError) as info:
                urllib.request.urlopen(server.url + "model.gguf", timeout=5)
        finally:
            release.set()
            worker.join()
    assert "only the model download may reach the network" in str(info.value.reason)
    assert egress.blocked()[-1].module == __name__


def test_nothing_passes_when_no_download_is_running(server, egress):
    with egress.mode(Mode.DOWNLOADS_ALLOWED), pytest.raises(urllib.error.URLError) as info:
        _fake_download.fetch_without_window(server.url + "model.gguf")
    assert "no model download is running" in str(info.value.reason)


def test_local_only_refuses_a_download_window(server, egress):
    with pytest.raises(EgressBlocked, match="Local-only mode is on"):
        _fake_download.fetch(server.url + "model.gguf", hosts={server.host})
    assert egress.blocked()[-1].action is Action.CONNECT


def test_other_code_cannot_open_a_download_window():
    with pytest.raises(EgressBlocked, match="only the model download"):
        engine.policy.allow_downloads({"127.0.0.1"}, reason="not a download")


def test_switching_to_local_only_stops_a_running_download(server, egress):
    def narrow_then_fetch() -> bytes:
        engine.policy.set_mode(Mode.LOCAL_ONLY)
        with urllib.request.urlopen(server.url + "model.gguf", timeout=5) as r:
            return bytes(r.read())

    with egress.mode(Mode.DOWNLOADS_ALLOWED), pytest.raises(urllib.error.URLError) as info:
        _fake_download.call_in_window({server.host}, narrow_then_fetch)
    assert "Local-only mode is on" in str(info.value.reason)


def test_listening_and_datagrams_stay_blocked_during_a_download(server, egress):
    with egress.mode(Mode.DOWNLOADS_ALLOWED):
        with pytest.raises(EgressBlocked, match="never listens"):
            _fake_download.bind_loopback({server.host})
        with pytest.raises(EgressBlocked, match=r"10\.0\.0\.1 is not a host"):
            _fake_download.send_datagram({server.host}, "10.0.0.1", 53)
    assert [e.action for e in egress.blocked()] == [Action.BIND, Action.SEND]


def test_a_catalog_host_name_reaches_the_addresses_it_resolves_to(server, egress):
    with egress.mode(Mode.DOWNLOADS_ALLOWED):
        data = _fake_download.fetch(
            f"http://localhost:{server.port}/model.gguf", hosts={"localhost"}
        )
    assert data.startswith(b"GGUF")
    connects = [e for e in egress.entries() if e.action is Action.CONNECT]
    assert connects, "the connect should be recorded"
    assert all(e.detail == "address of localhost" for e in connects)
    assert connects[-1].allowed
