"""``hearth chat`` run as a person would: a child process with the real starter model and the
real encrypted store."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

from engine.paths import PROJECT_ROOT
from engine.storage import Keychain, open_store
from tests.engine._cli_run import HEARTH


def test_ctrl_c_mid_reply_prints_stopped_and_keeps_the_partial_reply(
    starter_model_path: Path, keychain: Keychain
):
    child = subprocess.Popen(
        [*HEARTH, "chat", "--max-tokens", "2000", "--temperature", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order a terminal would show it
        cwd=PROJECT_ROOT,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(b"Tell me a very long story about a dragon and a knight.\n")
    child.stdin.flush()
    shown = b""

    def read_until(done: bytes | int, timeout: float = 120) -> None:
        nonlocal shown
        deadline = time.monotonic() + timeout
        while not (done in shown if isinstance(done, bytes) else len(reply()) >= done):
            assert time.monotonic() < deadline, shown.decode()
            if select.select([child.stdout], [], [], 0.1)[0]:
                shown += os.read(child.stdout.fileno(), 65536)

    def reply() -> bytes:
        return shown.partition("you › ".encode())[2]

    try:
        read_until(40)  # some of the reply has appeared
        child.send_signal(signal.SIGINT)
        read_until(b"\nstopped\n")
        child.stdin.close()  # end of input: the chat ends
        shown += child.stdout.read()
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, shown.decode()
    text = shown.decode()
    partial, stopped, after = text.partition("you › ")[2].partition("\nstopped\n")
    assert stopped and after.strip() == "you ›"  # the next prompt, then the input ended
    assert "Traceback" not in text
    with open_store() as store:
        (conv,) = store.list_conversations()
        question, answer = store.active_path(conv.id)
    assert question.content.startswith("Tell me a very long story")
    assert answer.status == "interrupted"
    assert answer.content and answer.content.strip() == partial.strip()
    assert answer.stats is not None and answer.stats.generated_tokens < 2000
