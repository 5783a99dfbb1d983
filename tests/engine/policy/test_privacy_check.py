"""The self-audit: the operating system's view of a real chat, and the data on disk."""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys

import pytest

from engine.policy.privacy_check import (
    QUESTION,
    check_database,
    default_command,
    find_plaintext,
    format_privacy_check,
    parse_strace,
    run_privacy_check,
)
from engine.storage import default_path, open_store

needs_strace = pytest.mark.skipif(not shutil.which("strace"), reason="strace not installed")

SAMPLE = """\
101 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3
101 connect(3, {sa_family=AF_UNIX, sun_path="/run/user/0/bus"}, 110) = 0
102 sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="l", iov_len=1}]}, 0) = 1
101 socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 7
101 connect(7, {sa_family=AF_INET6, sin6_port=htons(53)}, 28 <unfinished ...>
102 socket(PF_NETLINK, SOCK_RAW, NETLINK_ROUTE) = 8
101 <... connect resumed>) = -1 ENETUNREACH (Network is unreachable)
101 sendto(7, "abc", 3, 0, NULL, 0) = 3
101 +++ exited with 0 +++
"""


def test_strace_output_is_read_by_family():
    calls = parse_strace(SAMPLE)
    assert [(c.pid, c.syscall, c.family) for c in calls] == [
        (101, "socket", "AF_UNIX"),
        (101, "connect", "AF_UNIX"),
        (102, "sendmsg", "AF_UNIX"),  # another thread: the descriptor tells the family
        (101, "socket", "AF_INET6"),
        (101, "connect", "AF_INET6"),
        (102, "socket", "AF_NETLINK"),
        (101, "sendto", "AF_INET6"),
    ]
    assert calls[4].result.startswith("-1 ENETUNREACH")


def test_a_plain_database_is_caught_and_an_encrypted_one_passes(tmp_path):
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert not check_database(plain).encrypted
    scrambled = tmp_path / "enc.db"
    scrambled.write_bytes(bytes(range(256)) * 64)
    result = check_database(scrambled)
    assert result.encrypted
    assert "not a database" in result.detail
    assert not check_database(tmp_path / "missing.db").exists


def test_the_question_is_found_in_plain_text_across_chunks(tmp_path):
    big = tmp_path / "notes.bin"
    big.write_bytes(b"x" * ((1 << 20) - 5) + QUESTION.encode() + b"y")
    (tmp_path / "other").write_bytes(b"nothing here")
    hits, plain_dbs = find_plaintext([tmp_path], QUESTION.encode())
    assert hits == [big]
    assert plain_dbs == []


@needs_strace
@pytest.mark.slow
def test_a_full_chat_makes_no_internet_system_call(starter_model_path, egress, keychain):
    """ask → answer → store in a child process under strace -f -e trace=network."""
    result = run_privacy_check(
        command=default_command(max_tokens=8), timeout_s=240, database_path=default_path()
    )
    report = format_privacy_check(result)
    assert result.method == "strace"
    assert result.error == "", report
    assert result.answered, report
    assert not [
        c
        for c in result.calls
        if c.family in ("AF_INET", "AF_INET6")
        and c.syscall in ("socket", "connect", "sendto", "sendmsg", "sendmmsg", "bind")
    ], report
    assert result.internet_calls == ()
    assert result.passed, report
    assert "Result: PASS" in report
    assert [e.detail for e in egress.entries()] == ["strace"]
    # The traced process did store the turn, encrypted: the whole cycle was under the trace.
    (db,) = result.databases
    assert db.exists and db.encrypted, report
    with open_store() as store:
        (conv,) = store.list_conversations()
        question, reply = store.active_path(conv.id)
        assert question.content == QUESTION
        assert reply.status == "done" and reply.content
        assert store.egress_count() == 0  # and its own policy saw no attempt either


@needs_strace
def test_the_trace_does_see_an_internet_connection():
    """Control: a child that does connect is caught, so a clean trace means something."""
    probe = "import socket; s = socket.socket(); print(s.connect_ex(('127.0.0.1', 9)))"
    result = run_privacy_check(command=[sys.executable, "-c", probe], timeout_s=60)
    assert {(c.syscall, c.family) for c in result.internet_calls} >= {
        ("socket", "AF_INET"),
        ("connect", "AF_INET"),
    }
    assert not result.passed
    assert re.search(r"=> \d+ system calls on internet sockets", format_privacy_check(result))


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not shutil.which("unshare"),
    reason="Linux network namespaces only",
)
def test_without_strace_the_child_runs_in_an_empty_network_namespace():
    probe = (
        "import socket, errno; s = socket.socket(); "
        "print(errno.errorcode[s.connect_ex(('127.0.0.1', 9))])"
    )
    result = run_privacy_check(
        command=[sys.executable, "-c", probe], method="unshare", timeout_s=60
    )
    if result.exit_code != 0 and "unshare" in result.error:
        pytest.skip(f"this machine does not allow network namespaces: {result.error}")
    assert result.method == "unshare"
    assert result.answered
    assert "unshare -n" in format_privacy_check(result)


def test_the_report_says_where_data_lives(tmp_path):
    result = run_privacy_check(
        command=[sys.executable, "-c", "print('hi')"],
        method="none",
        database_path=tmp_path / "hearth.db",
    )
    report = format_privacy_check(result)
    assert "Database key" in report
    assert str(tmp_path / "hearth.db") in report
    assert "Result: FAIL" in report  # no OS-level view: never a pass
