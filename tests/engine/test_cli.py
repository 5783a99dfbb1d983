"""The command line, run as a person would: a child process, real model, real output."""

from __future__ import annotations

import os
import select
import shutil
import signal
import stat
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.paths import PROJECT_ROOT
from engine.policy import Action, EgressAttempt, Mode
from engine.storage import Keychain, default_path, open_store
from tests.engine._cli_run import HEARTH, hearth


def test_ask_streams_an_answer_from_the_starter_model(starter_model_path: Path):
    done = hearth(
        "ask",
        "--max-tokens",
        "24",
        "--temperature",
        "0",
        "--stats",
        "What is the capital of France?",
    )
    assert done.returncode == 0, done.stderr
    assert "Paris" in done.stdout
    assert "tokens/s" in done.stderr
    assert "Traceback" not in done.stderr
    assert "llama_model_loader" not in done.stderr  # llama.cpp's chatter is not shown


def test_ask_saves_the_turn_in_the_encrypted_store(starter_model_path: Path, keychain: Keychain):
    done = hearth("ask", "--max-tokens", "12", "--temperature", "0", "Name a planet.")
    assert done.returncode == 0, done.stderr
    with open_store() as store:
        (conv,) = store.list_conversations()
        path = store.active_path(conv.id)
    assert [(m.role, m.status) for m in path] == [("user", "done"), ("assistant", "done")]
    assert path[0].content == "Name a planet."
    assert path[1].content.strip() == done.stdout.strip()


def test_ask_no_save_writes_nothing(starter_model_path: Path, fresh_profile: Path):
    done = hearth("ask", "--no-save", "--max-tokens", "8", "Name a planet.")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert not [p for p in fresh_profile.rglob("*") if p.is_file()]


def test_ask_dash_reads_the_question_from_standard_input(
    starter_model_path: Path, keychain: Keychain
):
    question = "What is the capital of France?"
    done = hearth("ask", "--max-tokens", "24", "--temperature", "0", "-", stdin=question + "\n")
    assert done.returncode == 0, done.stderr
    assert "Paris" in done.stdout
    with open_store() as store:
        (conv,) = store.list_conversations()
        assert store.active_path(conv.id)[0].content == question


def test_ask_with_no_question_reads_a_pipe(starter_model_path: Path):
    done = hearth("ask", "--no-save", "--max-tokens", "24", stdin="Name a planet.")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_ask_with_an_empty_standard_input_is_a_usage_error():
    done = hearth("ask", "-", stdin=" \n")
    assert done.returncode == 2
    assert done.stderr == "hearth ask: the question read from standard input is empty.\n"


def test_ask_with_no_question_on_a_terminal_says_how_to_give_one():
    master, slave = os.openpty()
    try:
        done = subprocess.run(
            [*HEARTH, "ask"],
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
            check=False,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert done.returncode == 2
    assert done.stderr.startswith("hearth ask: no question.")
    assert "'hearth ask -'" in done.stderr and "process list" in done.stderr


def test_without_a_keychain_the_answer_comes_with_a_not_saved_note(starter_model_path: Path):
    done = hearth(
        "ask",
        "--max-tokens",
        "8",
        "Name a planet.",
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "will not be saved" in done.stderr
    assert "keychain" in done.stderr.lower()
    assert "Traceback" not in done.stderr
    assert not default_path().exists()


def test_privacy_prints_the_ledger_kept_in_the_store(keychain: Keychain):
    with open_store() as store:
        store.record_egress(
            EgressAttempt(
                datetime.now(UTC),
                Action.CONNECT,
                "example.org",
                443,
                "some.module",
                Mode.LOCAL_ONLY,
                allowed=False,
            )
        )
    done = hearth("privacy")
    assert done.returncode == 0, done.stderr
    assert "Mode: Local-only" in done.stdout
    assert "kept in the encrypted store: 1 entries" in done.stdout
    assert "example.org:443" in done.stdout and "BLOCKED" in done.stdout


def test_chat_keeps_context_between_turns(starter_model_path: Path):
    done = hearth(
        "chat",
        "--max-tokens",
        "24",
        "--temperature",
        "0",
        stdin="My name is Ada.\nWhat is my name?\n",
    )
    assert done.returncode == 0, done.stderr
    # stdout is "you › <reply 1>\nyou › <reply 2>\nyou › ": each prompt, then its reply.
    first, second, after = done.stdout.split("you › ")[1:]
    assert first.strip() and after == ""
    assert "Ada" in second  # the second answer knows what the first question said


def test_models_lists_catalog_installed_and_fit(starter_model_path: Path):
    done = hearth("models")
    assert done.returncode == 0, done.stderr
    assert "* smollm2-135m-instruct-q4_1" in done.stdout
    assert "qwq-32b-q4_k_m" in done.stdout
    assert "This machine:" in done.stdout
    assert "Best reasoning model for this machine:" in done.stdout


def test_unknown_model_is_a_clear_error():
    done = hearth("ask", "--model", "no-such-model", "hi")
    assert done.returncode == 1
    assert done.stderr.startswith("hearth: “no-such-model” is not in the model catalog.")
    assert "Traceback" not in done.stderr


def test_not_installed_model_says_what_to_do():
    done = hearth("ask", "--model", "qwq-32b-q4_k_m", "hi")
    assert done.returncode == 1
    assert "is not installed" in done.stderr and "hearth models" in done.stderr


def test_malformed_catalog_names_line_and_field(tmp_path: Path):
    broken = tmp_path / "models.toml"
    text = (PROJECT_ROOT / "models.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace("layers = 30", 'layers = "thirty"', 1), encoding="utf-8")
    line = next(
        i for i, ln in enumerate(broken.read_text().splitlines(), 1) if 'layers = "thirty"' in ln
    )
    done = hearth("models", env={"HEARTH_CATALOG": str(broken)})
    assert done.returncode == 1
    assert f"line {line}, field 'layers'" in done.stderr
    assert "Traceback" not in done.stderr


def test_truncated_model_file_is_a_clear_error(starter_model_path: Path, tmp_path: Path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(starter_model_path.read_bytes()[:1_000_000])
    done = hearth("ask", "--model", str(cut), "hi")
    assert done.returncode == 1
    assert "is not a usable GGUF model" in done.stderr
    assert "Traceback" not in done.stderr


def test_prompt_longer_than_the_context_is_a_clear_error(starter_model_path: Path):
    done = hearth("ask", "--ctx", "256", "word " * 600)
    assert done.returncode == 1
    assert "context" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("strace"), reason="strace not installed")
def test_privacy_check_passes_and_leaves_no_conversation_behind(
    starter_model_path: Path, keychain: Keychain
):
    done = hearth("privacy-check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Result: PASS" in done.stdout
    assert "AF_INET    none" in done.stdout and "AF_INET6   none" in done.stdout
    assert "unreadable without the key" in done.stdout
    assert "deleted from your history" in done.stdout
    with open_store() as store:
        assert store.list_conversations() == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_terminating_signal_ends_a_reply_as_ctrl_c_does(
    starter_model_path: Path, keychain: Keychain, sig: signal.Signals
):
    child = subprocess.Popen(
        [
            *HEARTH,
            "ask",
            "--max-tokens",
            "2000",
            "--temperature",
            "0",
            "Tell me a very long story about a dragon and a knight.",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    assert child.stdout is not None
    shown = b""
    deadline = time.monotonic() + 120
    while len(shown) < 40:  # some of the reply has appeared
        assert time.monotonic() < deadline and child.poll() is None, shown
        if select.select([child.stdout], [], [], 0.1)[0]:
            shown += os.read(child.stdout.fileno(), 65536)
    child.send_signal(sig)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + sig  # ended by the signal, as the shell expects
    assert b"stopped" in err and b"Traceback" not in err
    with open_store() as store:
        (conv,) = store.list_conversations()
        reply = store.active_path(conv.id)[-1]
    assert reply.status == "interrupted"  # kept, as Ctrl+C keeps it
    assert reply.content and reply.content.startswith((shown + out).decode()[:20])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--ctx", "-5"], "argument --ctx: -5 is not between 16 and 16,777,216"),
        (["--ctx", "0"], "argument --ctx: 0 is not between 16"),
        (["--max-tokens", "0"], "argument --max-tokens: 0 is not between 1 and 1,000,000"),
        (["--max-tokens", "lots"], "argument --max-tokens: 'lots' is not a whole number"),
        (["--threads", "-2"], "argument --threads: -2 is not between 1 and 1,024"),
        (["--gpu-layers", "-1"], "argument --gpu-layers: -1 is not between 0 and 100,000"),
        (["--thinking-budget", "-9"], "argument --thinking-budget: -9 is not between 1"),
        (["--temperature", "nan"], "argument --temperature: nan is not between 0.0 and 5.0"),
        (["--seed", "-1"], "argument --seed: -1 is not between 0"),
    ],
)
def test_numeric_options_are_checked_before_anything_runs(args: list[str], says: str):
    done = hearth("ask", "--no-save", *args, "hi")  # --ctx -5 used to loop, eating memory
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr


def test_a_question_that_is_not_utf8_is_refused_clearly(starter_model_path: Path):
    done = subprocess.run(
        [*HEARTH, "ask", "--no-save", b"caf\xe9"],
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "byte 0xE9 at character 4 is not UTF-8" in err and "Traceback" not in err
    piped = subprocess.run(
        [*HEARTH, "chat", "--no-save", "--max-tokens", "4", "--temperature", "0"],
        input=b"caf\xe9\nSay hi.\n",
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    out = piped.stdout.decode() + piped.stderr.decode()
    assert "That message was not sent: byte 0xE9" in out and "Traceback" not in out


def test_export_writes_readable_files_and_says_they_are_not_encrypted(
    starter_model_path: Path, keychain: Keychain, tmp_path: Path
):
    done = hearth("ask", "--max-tokens", "8", "--temperature", "0", "Name a colour.")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "exported"
    exported = hearth("export", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "NOT encrypted" in exported.stderr
    (md,) = out.glob("*.md")
    assert md.read_text().startswith("# ") and "Name a colour." in md.read_text()
    assert stat.S_IMODE(md.stat().st_mode) == 0o600 and stat.S_IMODE(out.stat().st_mode) == 0o700
    again = hearth("export", str(out), "--format", "json")
    assert again.returncode == 0 and len(list(out.glob("*.json"))) == 1
    assert "left as it is" in hearth("export", str(out)).stderr  # never overwritten


def test_backup_is_an_encrypted_copy_under_the_chosen_passphrase(
    starter_model_path: Path, keychain: Keychain, tmp_path: Path
):
    done = hearth("ask", "--max-tokens", "8", "--temperature", "0", "Name a planet.")
    assert done.returncode == 0, done.stderr
    target = tmp_path / "hearth-backup.db"
    short = hearth("backup", str(target), "--passphrase-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    made = hearth("backup", str(target), "--passphrase-stdin", stdin="correct horse battery\n")
    assert made.returncode == 0, made.stderr
    assert "Backed up 1 conversation" in made.stderr
    assert b"Name a planet" not in target.read_bytes()  # encrypted
    with open_store(target, passphrase="correct horse battery") as copy:
        (conv,) = copy.list_conversations()
        assert copy.active_path(conv.id)[0].content == "Name a planet."
    refused = hearth("backup", str(target), "--passphrase-stdin", stdin="correct horse battery\n")
    assert refused.returncode == 1 and "exists" in refused.stderr  # not replaced silently


def test_restore_adds_what_is_not_here_and_replaces_nothing(
    starter_model_path: Path, keychain: Keychain, tmp_path: Path
):
    for question in ("Name a planet.", "Name a river."):
        done = hearth("ask", "--max-tokens", "8", "--temperature", "0", question)
        assert done.returncode == 0, done.stderr
    backup = tmp_path / "hearth.backup"
    made = hearth("backup", str(backup), "--passphrase-stdin", stdin="correct horse battery\n")
    assert made.returncode == 0, made.stderr
    before = backup.read_bytes()
    with open_store() as store:  # one conversation goes, one is changed here after the backup
        planet, river = sorted(store.list_conversations(), key=lambda c: c.title)
        store.delete_conversation(planet.id)
        store.rename(river.id, "Rivers, renamed here")
    wrong = hearth("restore", str(backup), "--passphrase-stdin", "--yes", stdin="nope nope\n")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    asked = hearth("restore", str(backup), "--passphrase-stdin", stdin="correct horse battery\n")
    assert "to add" in asked.stdout and asked.returncode == 1  # no terminal to ask: nothing
    done = hearth(
        "restore", str(backup), "--passphrase-stdin", "--yes", stdin="correct horse battery\n"
    )
    assert done.returncode == 0, done.stderr
    assert "1 already here (left as they are), 1 to add" in done.stdout
    assert f"  + {planet.title}" in done.stdout
    with open_store() as store:
        titles = sorted(c.title for c in store.list_conversations())
        assert titles == sorted([planet.title, "Rivers, renamed here"])  # nothing replaced
        (back,) = [c for c in store.list_conversations() if c.title == planet.title]
        path = store.active_path(back.id)
        assert [m.role for m in path] == ["user", "assistant"]
        assert path[0].content == "Name a planet." and path[1].content
        assert [h.conversation_id for h in store.search("planet")] == [back.id]  # searchable
    assert backup.read_bytes() == before  # the backup file itself is untouched
    again = hearth(
        "restore", str(backup), "--passphrase-stdin", "--yes", stdin="correct horse battery\n"
    )
    assert "0 to add" in again.stdout
