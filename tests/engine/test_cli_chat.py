"""``hearth chat`` run as a person would: a child process with the real starter model and the
real encrypted store, fed through a pipe or typed into on a pseudo-terminal."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from engine.paths import PROJECT_ROOT, models_dir
from engine.storage import Keychain, open_store
from tests.engine._cli_run import (
    ALT_ENTER,
    CTRL_C,
    CTRL_D,
    ENTER,
    HEARTH,
    PROMPT_DONE,
    UP,
    Terminal,
    files_containing,
    hearth,
)

FAST = ("--max-tokens", "12", "--temperature", "0")


def chat(stdin: str, *args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    done = hearth("chat", *FAST, *args, stdin=stdin, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout, done.stderr


def questions() -> list[list[str]]:
    """The questions of each stored conversation, oldest conversation first."""
    with open_store() as store:
        convs = sorted(store.list_conversations(), key=lambda c: c.id)
        return [[m.content for m in store.active_path(c.id) if m.role == "user"] for c in convs]


def test_help_lists_the_commands_and_nothing_is_sent(starter_model_path: Path, keychain: Keychain):
    out, _ = chat("/help\n")
    for command in ("/help", "/new", "/model", "/system", "/quit", "/bye"):
        assert command in out
    assert "Alt+Enter" in out and "ends with \\" in out  # how to write a second line
    assert questions() == []  # no conversation was stored, nothing reached the model


def test_an_empty_line_does_nothing_and_a_trailing_backslash_continues(
    starter_model_path: Path, keychain: Keychain
):
    out, _ = chat("\n   \nName a planet \\\nand a moon.\n")
    assert out.count("you › ") == 4  # two empty lines, one message on two lines, end of input
    assert questions() == [["Name a planet \nand a moon."]]


def test_new_starts_a_second_conversation(starter_model_path: Path, keychain: Keychain):
    out, _ = chat("Name a planet.\n/new\nName a colour.\n")
    assert "New conversation." in out
    assert questions() == [["Name a planet."], ["Name a colour."]]


def test_system_prompt_set_before_the_first_message_is_stored_with_the_conversation(
    starter_model_path: Path, keychain: Keychain
):
    out, _ = chat(
        "/system\n/system Answer in French.\n/system\nName a planet.\n"
        "/system Answer in one word.\n/system\n"
    )
    assert "has no system prompt" in out
    assert "stored with the conversation's first message" in out
    assert "applies from the next reply" in out
    assert out.count("Answer in French.") == 1 and out.count("Answer in one word.") == 1
    with open_store() as store:
        (conv,) = store.list_conversations()
        assert store.get_conversation(conv.id).system_prompt == "Answer in one word."


def test_system_prompt_from_the_command_line_and_cleared(
    starter_model_path: Path, keychain: Keychain
):
    out, _ = chat("/system\n/system clear\nName a planet.\n", "--system", "Be brief.")
    assert "Be brief." in out and "System prompt removed." in out
    with open_store() as store:
        (conv,) = store.list_conversations()
        assert store.get_conversation(conv.id).system_prompt == ""


def test_model_with_only_the_starter_installed_says_so(starter_model_path: Path):
    out, err = chat("/model\n/model qwq-32b-q4_k_m\n/model no-such-model\nName a planet.\n")
    assert "Only one model is installed: SmolLM2 135M Instruct Q4_1" in out
    assert "is not installed" in err and "is not in the model catalog" in err
    assert out.split("you › ")[4].strip()  # the chat went on: the question was answered


def test_model_lists_installed_models_and_switches(starter_model_path: Path, keychain: Keychain):
    models_dir().mkdir(parents=True)
    (models_dir() / "other-model.gguf").symlink_to(starter_model_path)  # an imported model
    out, err = chat("Name a planet.\n/model\n/model other-model.gguf\n/model\nName a colour.\n")
    listings = [block for block in out.split("you › ") if "Installed models" in block]
    assert len(listings) == 2
    before, after = listings
    assert re.search(r"^\* smollm2-135m-instruct-q4_1 ", before, re.M)
    assert re.search(r"^  other-model\.gguf ", before, re.M)
    assert re.search(r"^\* other-model\.gguf ", after, re.M)
    assert "Loading other-model.gguf" in err and "Now answering with" in out
    with open_store() as store:
        (conv,) = store.list_conversations()  # the same conversation goes on
        replies = [m for m in store.active_path(conv.id) if m.role == "assistant"]
    assert [r.model_id for r in replies] == ["smollm2-135m-instruct-q4_1", "other-model"]


def test_unknown_command_is_not_sent(starter_model_path: Path, keychain: Keychain):
    _, err = chat("/bogus please\n/etc/hosts\n/HELP\n//help is not a command here\n")
    assert "Unknown command /bogus: nothing was sent." in err
    assert "Unknown command /etc/hosts" in err
    assert "begin it with //" in err
    assert questions() == [["/help is not a command here"]]  # only the // message was sent


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


def test_typed_text_is_never_written_to_disk_in_plaintext(
    starter_model_path: Path, keychain: Keychain, fresh_profile: Path, tmp_path: Path
):
    home = tmp_path / "home"
    home.mkdir()
    secret = "my zebra is called Quasar-7141"
    chat(f"Remember this: {secret}.\nWhat is my zebra called?\n", env={"HOME": str(home)})
    assert questions() == [[f"Remember this: {secret}.", "What is my zebra called?"]]
    files = [p for p in fresh_profile.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files), files  # the store was written, encrypted
    assert files_containing("Quasar-7141", fresh_profile, home) == []
    assert files_containing("zebra", fresh_profile, home) == []


@pytest.fixture
def terminal_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_in_a_terminal_up_brings_back_the_last_message_and_keys_behave(
    starter_model_path: Path, keychain: Keychain, fresh_profile: Path, terminal_home: Path
):
    term = Terminal(
        "chat", "--max-tokens", "400", "--temperature", "0", env={"HOME": str(terminal_home)}
    )
    try:
        term.wait_for_prompt(1)
        term.type(b"Name a planet, please." + ENTER)
        term.wait_for_prompt(2)  # answered; a new prompt
        mark = len(term.output)
        term.type(UP)  # the previous message comes back, from memory
        term.wait_for(lambda out: b"Name a planet, please." in out[mark:])
        term.type(ENTER)
        term.wait_for_prompt(3)
        term.type(b"Write two words" + ALT_ENTER + b"on two lines." + ENTER)
        term.wait_for_prompt(4)
        term.type(CTRL_C)  # at an empty prompt: a hint, no crash
        term.wait_for(lambda out: b"To leave, press Ctrl+D or type /quit." in out)
        term.wait_for_prompt(5)
        term.type(b"Tell me a very long story about a dragon and a knight." + ENTER)
        mark = len(term.output)

        def reply_started(out: bytes) -> bool:
            done = out.find(PROMPT_DONE, mark)
            return done >= 0 and len(out) - done > 100

        term.wait_for(reply_started)
        term.type(CTRL_C)  # mid-reply: stops it
        term.wait_for(lambda out: b"stopped" in out[mark:])
        term.wait_for_prompt(6)
        term.type(CTRL_D)  # leaves
        assert term.wait_for_exit() == 0
    finally:
        term.close()
    shown = term.text()
    assert "Traceback" not in shown
    assert re.search(r"\S\nstopped\nyou ›", shown)  # on its own line, after the reply's text
    assert "^C" not in shown  # no stray "^C" echoed into the reply
    with open_store() as store:
        (conv,) = store.list_conversations()
        path = store.active_path(conv.id)
        assert store.egress_count() == 0
    assert [m.content for m in path if m.role == "user"] == [
        "Name a planet, please.",
        "Name a planet, please.",
        "Write two words\non two lines.",
        "Tell me a very long story about a dragon and a knight.",
    ]
    assert path[-1].status == "interrupted" and path[-1].content
    assert files_containing("Name a planet", fresh_profile, terminal_home) == []
