"""The real ``hearth`` CLI SIGKILLed mid-stream, and what must hold once its store reopens.

Shared by ``benchmarks/crash.py`` (the campaign) and ``tests/engine/storage/test_crash.py``
(a few kills in the default suite). The child runs this checkout's code
(``python -m desktop.launch``) in whatever profile the environment names (XDG_* folders) and
with whatever keychain the D-Bus session holds; the checks open the same store as the child.

What counts as acknowledged (the CLI has told the person it happened), from what the child
wrote to standard output before it was killed:

- **A question** is acknowledged once the first character of its answer is printed:
  ``Chat.send`` stores the question and the empty 'streaming' reply (two commits) and only
  then is the first chunk streamed.
- **A whole reply** is acknowledged once what the CLI prints after it has appeared: the next
  ``you ›`` prompt in ``hearth chat``, a normal exit for ``hearth ask``. Both come after
  ``Turn`` has finished the reply as 'done' (the reply's closing new line does not count: it
  is printed before that save).
- **The reply being streamed** when the kill came is acknowledged only as far as the store
  had it: it must reopen as 'interrupted' holding a prefix of the printed text (nothing
  invented, nothing out of order); how much of the printed text had not been saved yet is
  measured (``Checked.unsaved_s``), not required, since saves come every ``SAVE_INTERVAL_S``.

Every message found after a kill joins the ``Ledger``, and must be found unchanged after every
later kill too.
"""

from __future__ import annotations

import codecs
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlcipher3

from engine._cli_chat import PROMPT
from engine.paths import PROJECT_ROOT
from engine.storage import ConversationStore, Keychain, Message, open_store

# `python -m desktop.launch` runs the `hearth` entry point with this checkout's code.
HEARTH = [sys.executable, "-m", "desktop.launch"]
START_TIMEOUT_S = 180  # model load on a busy 2-core machine


class CrashCheckFailed(AssertionError):
    """A kill lost or changed something acknowledged, or left the store damaged."""


class _Output:
    """A child's standard output, read as it arrives, with the time each part arrived."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self._process = process
        self._fd = process.stdout.fileno()
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.closed = False
        self._arrivals: list[tuple[int, float]] = []  # (length of text after a read, when)

    def read_until(self, done: Callable[[str], bool], deadline: float) -> bool:
        """Read until ``done(text)``, the end of the output, or ``deadline``; whether done."""
        while not done(self.text):
            left = deadline - time.monotonic()
            if self.closed or left <= 0:
                return False
            ready, _, _ = select.select([self._fd], [], [], min(left, 0.05))
            if ready:
                self._read_once()
        return True

    def drain(self) -> None:
        """Everything the child wrote before it ended (it has been killed or has exited)."""
        while not self.closed:
            self._read_once()

    def arrived_at(self, index: int) -> float:
        """When the character at ``index`` was read."""
        for length, when in self._arrivals:
            if length > index:
                return when
        raise IndexError(index)

    def _read_once(self) -> None:
        data = os.read(self._fd, 65536)
        self.text += self._decoder.decode(data, final=not data)
        if data:
            self._arrivals.append((len(self.text), time.monotonic()))
        else:
            self.closed = True


@dataclass
class Killed:
    """One run of the CLI: what it printed, and when it was killed (None: it ended first)."""

    questions: list[str]
    output: _Output
    killed_at: float | None
    stderr: str
    returncode: int

    @property
    def answers(self) -> list[str]:
        """What was printed of each answer (``hearth chat``: the text between prompts)."""
        if self.output.text.startswith(PROMPT):
            return self.output.text.split(PROMPT)[1:]
        return [self.output.text]

    def answer_start(self, turn: int) -> int:
        """Index in the output of the first character of answer ``turn`` (0-based)."""
        if not self.output.text.startswith(PROMPT):
            return 0
        index = -1
        for _ in range(turn + 1):
            index = self.output.text.index(PROMPT, index + 1)
        return index + len(PROMPT)


def _spawn(args: Sequence[str], env: dict[str, str] | None) -> tuple[subprocess.Popen[bytes], Path]:
    err = Path(tempfile.mkstemp(prefix="hearth-crash-", suffix=".err")[1])
    with err.open("wb") as err_file:
        process = subprocess.Popen(
            [*HEARTH, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err_file,
            cwd=PROJECT_ROOT,
            env={**os.environ, **(env or {})},
        )
    return process, err


def _end(process: subprocess.Popen[bytes], output: _Output, err: Path, kill: bool) -> Killed:
    killed_at = None
    if process.stdin is not None:
        process.stdin.close()  # a child left waiting for input (hearth chat) ends
    if output.closed:  # it closed its output: it is exiting, not streaming
        kill = False
    if kill and process.poll() is None:
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)
    output.drain()
    returncode = process.wait(timeout=60)
    stderr = err.read_text(encoding="utf-8", errors="replace")
    err.unlink()
    return Killed([], output, killed_at, stderr, returncode)


def _failed(what: str, run: Killed) -> CrashCheckFailed:
    return CrashCheckFailed(f"{what} (exit {run.returncode}); its errors:\n{run.stderr[-2000:]}")


def ask_and_kill(
    question: str,
    delay_s: float,
    *,
    options: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Killed:
    """``hearth ask QUESTION`` SIGKILLed ``delay_s`` after the first answer character was read
    (``killed_at`` None if it had ended by then)."""
    process, err = _spawn(["ask", *options, question], env)
    assert process.stdin is not None
    process.stdin.close()
    output = _Output(process)
    started = output.read_until(bool, time.monotonic() + START_TIMEOUT_S)
    if started:
        output.read_until(lambda _: False, output.arrived_at(0) + delay_s)
    run = _end(process, output, err, kill=started)
    run.questions = [question]
    if not started:
        raise _failed("hearth ask printed no answer", run)
    return run


def chat_and_kill(
    questions: Sequence[str],
    kill_turn: int,
    delay_s: float,
    rng: random.Random,
    *,
    options: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Killed:
    """``hearth chat`` through a pipe: each question typed once its prompt is printed, the
    child SIGKILLed ``delay_s`` after the first character of answer ``kill_turn`` (0-based).
    A reply that ends before then is whole: the kill moves to the next question, at a moment
    drawn from ``rng`` within 90 % of the length of the reply that just ended.
    """
    process, err = _spawn(["chat", *options], env)
    assert process.stdin is not None
    output = _Output(process)
    sent: list[str] = []
    kill = False
    for turn, question in enumerate(questions):
        if not output.read_until(_prompts_over(turn), _deadline()):
            break
        process.stdin.write(question.encode() + b"\n")
        process.stdin.flush()
        sent.append(question)
        if turn < kill_turn:
            continue
        if not output.read_until(_answer_started(turn), _deadline()):
            break
        start = output.arrived_at(output.text.rindex(PROMPT) + len(PROMPT))
        if not output.read_until(_prompts_over(turn + 1), start + delay_s):
            kill = True  # still streaming
            break
        delay_s = rng.uniform(0, 0.9 * (output.arrived_at(len(output.text) - 1) - start))
    run = _end(process, output, err, kill=kill)
    run.questions = sent
    if not kill:
        raise _failed(f"hearth chat was not killed mid-stream ({len(sent)} sent)", run)
    return run


def _prompts_over(n: int) -> Callable[[str], bool]:
    return lambda text: text.count(PROMPT) > n


def _answer_started(turn: int) -> Callable[[str], bool]:
    return lambda text: len(text.split(PROMPT)[turn + 1]) > 0


def _deadline() -> float:
    return time.monotonic() + START_TIMEOUT_S


@dataclass(frozen=True)
class Checked:
    """What one kill left behind, as found on reopening."""

    status: str  # of the reply being streamed: 'interrupted', or 'done' if it had ended
    printed_chars: int
    saved_chars: int
    unsaved_s: float  # how long the oldest printed but unsaved character had been shown
    kill_after_s: float  # the kill, after the killed answer's first character (0: it ended)
    integrity_s: float  # reopen + both integrity checks


@dataclass
class Ledger:
    """Every message found after a kill: (role, content, status), by id."""

    messages: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    conversations_seen: set[int] = field(default_factory=set)

    def check(self, store: ConversationStore) -> None:
        for message_id, expected in self.messages.items():
            m = store.get_message(message_id)
            if (m.role, m.content, m.status) != expected:
                raise CrashCheckFailed(
                    f"message {message_id} changed after a later kill: was {expected[0]}/"
                    f"{expected[2]} of {len(expected[1])} characters, is {m.role}/{m.status} "
                    f"of {len(m.content)}"
                )

    def add(self, messages: Sequence[Message]) -> None:
        for m in messages:
            self.messages[m.id] = (m.role, m.content, m.status)


def integrity(store: ConversationStore, keychain: Keychain) -> None:
    """Both integrity checks, clean, on a second connection beside the reopened store.

    Raises: CrashCheckFailed.
    """
    if store.damage is not None:
        raise CrashCheckFailed(f"the store reopened as damaged: {store.damage}")
    key = keychain.load()
    assert key is not None
    conn = sqlcipher3.connect(str(store.path), isolation_level=None)
    try:
        conn.execute(f"PRAGMA key = {key.pragma_literal}")
        pages = conn.execute("PRAGMA integrity_check").fetchall()
        cipher = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    finally:
        conn.close()
    if pages != [("ok",)] or cipher != []:
        raise CrashCheckFailed(f"integrity_check {pages[:3]}, cipher_integrity_check {cipher[:3]}")


def check_after_kill(run: Killed, ledger: Ledger, keychain: Keychain) -> Checked:
    """Reopen the store the child used and check everything acknowledged is there.

    Raises: CrashCheckFailed.
    """
    started = time.monotonic()
    with open_store(keychain=keychain) as store:
        integrity(store, keychain)
        integrity_s = time.monotonic() - started
        ledger.check(store)
        if any(m.status == "streaming" for m in _all_messages(store)):
            raise CrashCheckFailed("a reply is still 'streaming' after reopening")
        path = _conversation_of(store, run.questions[0], ledger)
        return _check_path(run, path, integrity_s, ledger)


def _all_messages(store: ConversationStore) -> list[Message]:
    return [m for c in store.list_conversations() for m in store.all_messages(c.id)]


def _conversation_of(store: ConversationStore, question: str, ledger: Ledger) -> list[Message]:
    for c in store.list_conversations():
        if c.id in ledger.conversations_seen:
            continue
        path = store.active_path(c.id)
        if path and path[0].role == "user" and path[0].content == question:
            ledger.conversations_seen.add(c.id)
            return path
    raise CrashCheckFailed("an acknowledged question is missing after the kill")


def _check_path(run: Killed, path: list[Message], integrity_s: float, ledger: Ledger) -> Checked:
    answers = run.answers
    ended = run.killed_at is None
    last = len(run.questions) - 1
    if len(path) != 2 * len(run.questions):
        raise CrashCheckFailed(
            f"{len(path)} messages stored for {len(run.questions)} acknowledged questions"
        )
    for turn, question in enumerate(run.questions):
        asked, reply = path[2 * turn], path[2 * turn + 1]
        if (asked.role, asked.content) != ("user", question):
            raise CrashCheckFailed(f"question {turn + 1} is not what was asked")
        if reply.role != "assistant":
            raise CrashCheckFailed(f"reply {turn + 1} is not the model's")
        printed = answers[turn]
        whole = turn < last or ended  # acknowledged whole
        if whole and (reply.status, reply.content) != ("done", printed.removesuffix("\n")):
            raise CrashCheckFailed(
                f"reply {turn + 1}, acknowledged whole, is {reply.status} with "
                f"{len(reply.content)} of {len(printed) - 1} characters"
            )
    killed = path[-1]
    printed = answers[last]
    if killed.status not in ("interrupted", "done") or not printed.startswith(killed.content):
        raise CrashCheckFailed(
            f"the killed reply is {killed.status} and its {len(killed.content)} stored characters "
            f"are {'' if printed.startswith(killed.content) else 'not '}what was printed"
        )
    if killed.status == "done" and killed.content != printed.removesuffix("\n"):
        raise CrashCheckFailed("the killed reply is 'done' but not all of what was printed")
    unsaved_s = kill_after_s = 0.0
    if run.killed_at is not None:
        start = run.answer_start(last)
        kill_after_s = run.killed_at - run.output.arrived_at(start)
        if len(killed.content) < len(printed.removesuffix("\n")):
            unsaved_s = run.killed_at - run.output.arrived_at(start + len(killed.content))
    ledger.add(path)
    return Checked(
        killed.status, len(printed), len(killed.content), unsaved_s, kill_after_s, integrity_s
    )
