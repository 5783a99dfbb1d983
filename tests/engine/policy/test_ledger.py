"""The ledger: in memory, handed to a sink (the encrypted store), printed by `hearth privacy`."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

import engine.policy
from engine.policy import Action, EgressAttempt, EgressBlocked, Ledger, Mode
from engine.policy.report import format_ledger


def attempt(host: str = "example.com", *, allowed: bool = False) -> EgressAttempt:
    return EgressAttempt(
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        action=Action.CONNECT,
        host=host,
        port=443,
        module="some.module",
        mode=Mode.LOCAL_ONLY,
        allowed=allowed,
    )


def test_a_sink_gets_earlier_entries_then_each_new_one():
    ledger = Ledger()
    ledger.record(attempt("a"))
    got: list[EgressAttempt] = []
    ledger.attach(got.append)
    ledger.record(attempt("b"))
    assert [e.host for e in got] == ["a", "b"]
    ledger.detach()
    ledger.record(attempt("c"))
    assert [e.host for e in got] == ["a", "b"]
    assert [e.host for e in ledger] == ["a", "b", "c"]


def test_a_failing_sink_never_breaks_the_caller(caplog):
    ledger = Ledger()

    def broken(_entry: EgressAttempt) -> None:
        raise RuntimeError("store closed")

    ledger.attach(broken)
    ledger.record(attempt())
    assert ledger.sink_failures == 1
    assert len(ledger) == 1


def test_an_attempt_made_by_the_sink_itself_is_kept_in_order():
    ledger = Ledger()
    got: list[str] = []

    def sink(entry: EgressAttempt) -> None:
        got.append(entry.host)
        if entry.host == "first":
            ledger.record(attempt("made by the sink"))

    ledger.attach(sink)
    ledger.record(attempt("first"))
    assert got == ["first", "made by the sink"]


def test_memory_keeps_the_most_recent_entries():
    ledger = Ledger(limit=3)
    for host in "abcde":
        ledger.record(attempt(host))
    mark = ledger.total
    ledger.record(attempt("f"))
    assert [e.host for e in ledger] == ["d", "e", "f"]
    assert [e.host for e in ledger.since(mark)] == ["f"]


def test_the_process_ledger_records_blocked_attempts_with_their_caller(egress):
    with pytest.raises(EgressBlocked):
        socket.create_connection(("203.0.113.7", 8080))
    entry = engine.policy.ledger().entries()[-1]
    assert (entry.action, entry.host, entry.port, entry.allowed) == (
        Action.DNS,
        "203.0.113.7",
        8080,
        False,
    )
    assert entry.module == __name__
    assert entry.mode is Mode.LOCAL_ONLY


def test_format_ledger():
    assert "nothing tried to leave" in format_ledger([])
    text = format_ledger([attempt("example.com"), attempt("::1", allowed=True)])
    assert "BLOCKED  connect  example.com:443" in text
    assert "allowed  connect  [::1]:443" in text
    assert "some.module" in text
    assert "Local-only" in text
    assert text.endswith("2 attempts: 1 blocked, 1 allowed.\n")
