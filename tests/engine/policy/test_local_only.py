"""Local-only mode: nothing leaves, loopback included; each attempt is refused and recorded."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

import pytest

import engine.policy
from engine.errors import HearthError
from engine.policy import Action, EgressBlocked, Mode
from tests.engine.policy._loopback import http_server, reachable_from_child


@pytest.fixture
def server(tmp_path: Path):
    (tmp_path / "hello.txt").write_text("hello")
    with http_server(tmp_path) as srv:
        assert reachable_from_child(srv), "the loopback server should really be listening"
        yield srv


def test_error_is_a_hearth_error_that_says_local_only_is_on():
    with pytest.raises(EgressBlocked) as info:
        socket.getaddrinfo("example.com", 443)
    exc = info.value
    assert isinstance(exc, HearthError)
    assert isinstance(exc, PermissionError)  # offline-aware code sees an OSError
    assert "example.com" in exc.user_message
    assert "Local-only mode is on" in exc.user_message
    assert exc.attempt.action is Action.DNS


def test_connect_to_a_listening_loopback_server_is_blocked(server, egress):
    with pytest.raises(EgressBlocked, match="Local-only mode is on"):
        socket.create_connection((server.host, server.port), timeout=5)
    with pytest.raises(EgressBlocked, match="network socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(EgressBlocked):
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    blocked = egress.blocked()
    assert [(e.action, e.host, e.port) for e in blocked[:1]] == [
        (Action.DNS, "127.0.0.1", server.port)
    ]
    assert [e.action for e in blocked[1:]] == [Action.SOCKET, Action.SOCKET]
    assert all(e.mode is Mode.LOCAL_ONLY for e in blocked)
    assert all(e.module == __name__ for e in blocked)


@pytest.mark.parametrize(
    "lookup",
    [
        lambda: socket.getaddrinfo("localhost", 80),
        lambda: socket.gethostbyname("localhost"),
        lambda: socket.gethostbyname_ex("example.org"),
        lambda: socket.gethostbyaddr("127.0.0.1"),
        lambda: socket.getnameinfo(("127.0.0.1", 80), 0),
        lambda: socket.getfqdn("example.org"),  # catches OSError: must not get through anyway
    ],
)
def test_dns_lookups_are_blocked(lookup, egress):
    with contextlib.suppress(EgressBlocked):
        lookup()
    dns = [e for e in egress.blocked() if e.action is Action.DNS]
    assert len(dns) >= 1
    assert all(e.host for e in dns)


def test_urllib_request_is_blocked(server, egress):
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.urlopen(server.url + "hello.txt", timeout=5)
    assert isinstance(info.value.reason, EgressBlocked)
    assert "Local-only mode is on" in str(info.value)
    assert [(e.action, e.host, e.port) for e in egress.blocked()] == [
        (Action.DNS, server.host, server.port)
    ]


def test_http_client_request_is_blocked(server, egress):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    with pytest.raises(EgressBlocked, match=f"{server.host}"):
        conn.request("GET", "/hello.txt")
    conn.close()
    assert [(e.action, e.host) for e in egress.blocked()] == [(Action.DNS, server.host)]


def test_curl_subprocess_is_blocked(server, egress):
    with pytest.raises(EgressBlocked, match="'curl'"):
        subprocess.run(["curl", "-s", server.url], check=False)
    with pytest.raises(EgressBlocked, match="'sh'"):
        subprocess.run(f"curl -s {server.url}", shell=True, check=False)
    with pytest.raises(EgressBlocked, match="shell"):
        os.system(f"curl -s {server.url}")
    assert [(e.action, e.detail) for e in egress.blocked()] == [
        (Action.PROCESS, "curl"),
        (Action.PROCESS, "sh"),
        (Action.PROCESS, "curl"),
    ]


def test_arguments_of_a_blocked_program_are_never_recorded(egress):
    secret = "my private question about my health"
    with pytest.raises(EgressBlocked) as info:
        subprocess.run(["wget", "--post-data", secret, "http://example.com"], check=False)
    assert secret not in str(info.value)
    assert all(secret not in repr(e) for e in egress.entries())


def test_browser_is_blocked(egress):
    browser = webbrowser.GenericBrowser("true")
    with pytest.raises(EgressBlocked, match=r"example\.com"):
        browser.open("https://example.com/private/path?q=secret")
    entry = egress.blocked()[-1]
    assert (entry.action, entry.host) == (Action.BROWSER, "example.com")
    assert "secret" not in repr(entry)


def test_a_link_opened_after_asking_is_recorded(egress):
    engine.policy.record_link_opened("https://example.com/a?b=c", confirmed=True)
    engine.policy.record_link_opened("https://example.org/", confirmed=False)
    assert [(e.action, e.host, e.allowed) for e in egress.entries()] == [
        (Action.BROWSER, "example.com", True),
        (Action.BROWSER, "example.org", False),
    ]


def test_hub_client_cannot_be_imported(egress):
    with pytest.raises(EgressBlocked, match="huggingface_hub"):
        import huggingface_hub  # noqa: F401, TID251 - the point of the test
    assert egress.blocked()[-1].action is Action.IMPORT


def test_local_ipc_still_works(tmp_path, egress):
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"ping")
        assert b.recv(4) == b"ping"
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind(path)
        srv.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as cli:
            cli.connect(path)
            conn, _ = srv.accept()
            with conn:
                cli.sendall(b"pong")
                assert conn.recv(4) == b"pong"
    assert egress.entries() == []


@pytest.mark.skipif(
    not os.environ.get("HEARTH_TEST_KEYRING"),
    reason="needs the private Secret Service of scripts/test.sh",
)
def test_keychain_over_dbus_still_works():
    import keyring

    keyring.set_password("hearth-policy-test", "probe", "value")
    try:
        assert keyring.get_password("hearth-policy-test", "probe") == "value"
    finally:
        keyring.delete_password("hearth-policy-test", "probe")


def test_own_interpreter_and_check_tools_may_run(egress):
    out = subprocess.run(
        [sys.executable, "-c", "print('child')"], capture_output=True, text=True, check=True
    )
    assert out.stdout == "child\n"
    entries = egress.entries()
    assert [(e.action, e.allowed) for e in entries] == [(Action.PROCESS, True)]


def test_environment_is_hardened():
    for var in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
        assert os.environ[var] == "1"


def test_a_second_install_cannot_widen_the_mode():
    assert engine.policy.install(Mode.DOWNLOADS_ALLOWED) is Mode.LOCAL_ONLY
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY


def test_only_a_user_action_widens_the_mode(egress):
    code = compile("set_mode(Mode.DOWNLOADS_ALLOWED)", "<library>", "exec")
    with pytest.raises(EgressBlocked, match="only you can allow downloads"):
        exec(
            code,
            {
                "__name__": "some_library.telemetry",
                "set_mode": engine.policy.set_mode,
                "Mode": Mode,
            },
        )
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY
    narrow = compile("set_mode(Mode.LOCAL_ONLY)", "<library>", "exec")
    with egress.mode(Mode.DOWNLOADS_ALLOWED):
        exec(narrow, {"__name__": "some_library", "set_mode": engine.policy.set_mode, "Mode": Mode})
        assert engine.policy.current_mode() is Mode.LOCAL_ONLY
    changes = [e.detail for e in egress.entries() if e.action is Action.MODE and e.allowed]
    assert changes == ["Local-only → Downloads allowed", "Downloads allowed → Local-only"]


def test_the_hearth_launcher_beside_the_interpreter_may_run(egress):
    launcher = Path(sys.executable).parent / "hearth"
    if not launcher.exists():
        pytest.skip("hearth is not installed in this environment")
    done = subprocess.run(
        [str(launcher), "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0
    assert [(e.detail, e.allowed) for e in egress.entries()] == [("hearth", True)]
