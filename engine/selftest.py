"""``hearth --self-test``: does this installation work, offline, without touching the profile?

Headless and plain Python (no Qt), so it runs in a bundle on a machine with no display and no
keychain. Each check is reported with its outcome and what it saw:

1. the egress policy is in force (Local-only);
2. the starter model is present, matches the catalog's size and sha256, loads, and answers a
   prompt, through the same ``Chat`` turn the CLI and the window use;
3. that turn was written to an encrypted store in a temporary folder (a real SQLCipher file
   keyed with a throwaway passphrase: the OS keychain may be absent in a bundle test); the
   file is not plain SQLite, the prompt appears nowhere in it, it reads back with the
   passphrase and refuses a wrong one;
4. a PDF and a Word file written in the temporary folder are read (the bundled readers),
   indexed into that store and found by keyword search; their text is not in the file;
5. the egress ledger recorded no network attempt, allowed or blocked, during the test;
6. where ``strace`` exists (Linux), the checks run again in a child process traced with
   ``strace -f -e trace=network``, and the kernel saw no internet socket call.

The person's own profile (database, keychain, settings) is never read or written.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.catalog.catalog import CatalogModel

PROMPT = "Hearth self-test: name one colour of the sky."
MAX_TOKENS = 8
# Set in the traced child so that it does not trace itself again.
TRACED_ENV = "HEARTH_SELFTEST_TRACED"
_TRACE_TIMEOUT_S = 300


@dataclass(frozen=True)
class Check:
    """One check's outcome. ``passed`` is None when the check was skipped (and says why)."""

    name: str
    passed: bool | None
    detail: str
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]


@dataclass(frozen=True)
class SelfTestResult:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """No check failed, and every check that cannot be skipped ran."""
        return (
            bool(self.checks)
            and all(c.passed is not False for c in self.checks)
            and all(c.passed for c in self.checks if c.name in REQUIRED)
        )

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.passed is False)


POLICY = "egress policy"
MODEL = "starter model"
ANSWER = "answer"
STORE = "encrypted store"
LEDGER = "egress ledger"
KERNEL = "kernel trace"
DOCUMENTS = "private documents"
DOCUMENT_MARK = "Hearth self-test document: the boiler is serviced in October."
REQUIRED = frozenset({POLICY, MODEL, ANSWER, STORE, LEDGER})


class _Failed(Exception):
    """A check's failure, with what to report."""


def _timed(name: str, body: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        detail = body()
    except _Failed as exc:
        return Check(name, False, str(exc), time.monotonic() - started)
    except Exception as exc:  # a self-test reports every failure, whatever raised it
        return Check(
            name, False, f"{type(exc).__name__}: {_exc_text(exc)}", time.monotonic() - started
        )
    return Check(name, True, detail, time.monotonic() - started)


def _exc_text(exc: Exception) -> str:
    full = getattr(exc, "full_message", None)
    return str(full if isinstance(full, str) else exc)[:400]


class _Run:
    """State shared by the in-process checks: the answer, the store's file and passphrase."""

    def __init__(self, folder: Path) -> None:
        self.database = folder / "selftest.db"
        self.passphrase = secrets.token_urlsafe(24)
        self.model_path: Path | None = None
        self.entry: CatalogModel | None = None
        self.answer = ""
        self.conversation_id: int | None = None

    def policy(self) -> str:
        import engine.policy  # noqa: PLC0415
        from engine.policy import Mode  # noqa: PLC0415

        if not engine.policy.is_installed():
            raise _Failed("not installed: this entry point did not install it first")
        mode = engine.policy.current_mode()
        if mode is not Mode.LOCAL_ONLY:
            raise _Failed(f"mode is {mode.label}, expected Local-only")
        return "installed, Local-only"

    def model(self) -> str:
        from engine import paths  # noqa: PLC0415
        from engine.catalog import load_catalog  # noqa: PLC0415
        from engine.catalog._files import sha256_file  # noqa: PLC0415

        entry = load_catalog().default
        path = paths.bundled_models_dir() / entry.file
        if not path.is_file():
            raise _Failed(f"{entry.file} is missing from {path.parent}")
        size = path.stat().st_size
        if entry.size and size != entry.size:
            raise _Failed(f"{path} is {size:,} bytes, the catalog says {entry.size:,}")
        if entry.sha256 and sha256_file(path) != entry.sha256:
            raise _Failed(f"{path} does not match the catalog's sha256")
        self.model_path, self.entry = path, entry
        return f"{path} ({size / 1e6:.0f} MB, sha256 matches the catalog)"

    def answer_and_store(self) -> str:
        from engine.chat import Chat  # noqa: PLC0415
        from engine.inference import Answer, GenerationOptions, open_model  # noqa: PLC0415
        from engine.storage import open_store  # noqa: PLC0415

        if self.model_path is None:
            raise _Failed("skipped: no starter model")
        options = GenerationOptions(temperature=0.0, max_tokens=MAX_TOKENS, seed=1)
        with (
            open_store(self.database, passphrase=self.passphrase) as store,
            open_model(self.model_path, entry=self.entry, n_ctx=512) as session,
        ):
            chat = Chat(store, session)
            turn = chat.send(PROMPT, options)
            parts = [c.text for c in turn if isinstance(c, Answer)]
            self.conversation_id = chat.conversation_id
            reply = turn.reply
        self.answer = "".join(parts)
        if not self.answer.strip():
            raise _Failed("the model produced no answer")
        if reply is None or reply.status != "done":
            raise _Failed(f"the reply was not stored as done ({reply and reply.status})")
        shown = " ".join(self.answer.split())
        return f"{len(parts)} pieces: “{shown[:70]}{'…' if len(shown) > 70 else ''}”"

    def documents(self) -> str:
        from engine.docs import add_sources, search, update_library  # noqa: PLC0415
        from engine.storage import open_store  # noqa: PLC0415

        if self.conversation_id is None:
            raise _Failed("skipped: the store check had nothing to work on")
        folder = self.database.parent / "documents"
        folder.mkdir()
        _write_pdf(folder / "selftest.pdf", DOCUMENT_MARK)
        _write_docx(folder / "selftest.docx", DOCUMENT_MARK)
        with open_store(self.database, passphrase=self.passphrase) as store:
            library = store.create_library("self-test")
            add_sources(store, library, [folder])
            report = update_library(store, library)
            problems = [r.problem for r in report.results if r.outcome == "failed"]
            if problems or report.count("indexed") != 2:
                raise _Failed(f"{report.count('indexed')} of 2 read: {'; '.join(problems)}")
            hits = search(store, [library], "When is the boiler serviced?")
        found = {Path(h.passage.path).name for h in hits}
        if found != {"selftest.pdf", "selftest.docx"}:
            raise _Failed(f"the search found {sorted(found)}, not both files")
        needle = b"boiler is serviced"
        for path in self.database.parent.iterdir():
            if path.is_file() and needle in path.read_bytes():
                raise _Failed(f"the document text is in plain text in {path.name}")
        return "a PDF and a Word file read, indexed in the encrypted store and found"

    def store(self) -> str:
        from engine.policy.privacy_check import check_database  # noqa: PLC0415
        from engine.storage import WrongKey, open_store  # noqa: PLC0415

        if self.conversation_id is None:
            raise _Failed("nothing was written: the answer check failed")
        db = check_database(self.database)
        if not db.encrypted:
            raise _Failed(f"{self.database}: {db.detail}")
        needle = PROMPT.encode()
        for path in self.database.parent.iterdir():
            if needle in path.read_bytes():
                raise _Failed(f"the prompt is in plain text in {path.name}")
        with open_store(self.database, passphrase=self.passphrase) as store:
            messages = store.active_path(self.conversation_id)
        stored = [(m.role, m.content) for m in messages]
        if stored != [("user", PROMPT), ("assistant", self.answer)]:
            raise _Failed(f"read back {len(stored)} messages that differ from what was written")
        try:
            with open_store(self.database, passphrase=self.passphrase + "x"):
                pass
        except WrongKey:
            pass
        else:
            raise _Failed("a wrong passphrase opened the store")
        size = self.database.stat().st_size
        return (
            f"SQLCipher file of {size:,} bytes in a temporary folder: not plain SQLite, "
            "prompt not in it, read back with the passphrase, wrong one refused"
        )


def _write_pdf(path: Path, text: str) -> None:
    """A one-page PDF whose page shows ``text`` (Helvetica), written with pypdf's objects
    (``_add_object`` is how pypdf 7 registers an indirect object; the version is pinned)."""
    from pypdf import PdfWriter  # noqa: PLC0415
    from pypdf.generic import (  # noqa: PLC0415
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
    )

    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    content = DecodedStreamObject()
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content.set_data(f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(content)
    with path.open("wb") as f:
        writer.write(f)


def _write_docx(path: Path, text: str) -> None:
    import docx  # noqa: PLC0415

    document = docx.Document()
    document.add_paragraph(text)
    document.save(str(path))


def _network_entries(mark: int) -> list[str]:
    import engine.policy  # noqa: PLC0415
    from engine.policy import Action  # noqa: PLC0415

    # Starting a program (the GPU probe, strace) is not network; every other kind is.
    return [
        f"{e.action.value} {e.target} ({'allowed' if e.allowed else 'blocked'})"
        for e in engine.policy.ledger().since(mark)
        if e.action not in (Action.PROCESS, Action.MODE)
    ]


def _ledger_check(mark: int) -> Check:
    def body() -> str:
        entries = _network_entries(mark)
        if entries:
            raise _Failed(f"{len(entries)} network attempts: " + "; ".join(entries[:5]))
        return "no network attempt, allowed or blocked, during the test"

    return _timed(LEDGER, body)


def _kernel_check(relaunch: Sequence[str] | None) -> Check:
    """Run the checks again in a child traced by strace; fail on any internet socket call."""
    if os.environ.get(TRACED_ENV):
        return Check(KERNEL, None, "this is the traced run")
    strace = shutil.which("strace")
    if not sys.platform.startswith("linux") or strace is None:
        return Check(KERNEL, None, "strace not available here (optional; Linux only)")
    if not relaunch:
        return Check(KERNEL, None, "no command to run the traced child")

    def body() -> str:
        from engine.policy.privacy_check import INTERNET_FAMILIES, parse_strace  # noqa: PLC0415

        with tempfile.TemporaryDirectory(prefix="hearth-selftest-trace-") as tmp:
            trace = Path(tmp, "trace.txt")
            # execve too: the child's own start in the trace proves strace recorded it (a
            # run with no network call at all leaves no other line).
            argv = [
                strace,
                "-f",
                "-qq",
                "-e",
                "trace=network,execve",
                "-o",
                str(trace),
                "--",
                *relaunch,
            ]
            try:
                proc = subprocess.run(
                    argv,
                    capture_output=True,
                    text=True,
                    check=False,
                    env={**os.environ, TRACED_ENV: "1"},
                    timeout=_TRACE_TIMEOUT_S,
                )
            except subprocess.TimeoutExpired:
                raise _Failed(f"the traced run took over {_TRACE_TIMEOUT_S} s") from None
            text = trace.read_text(errors="replace") if trace.exists() else ""
        if proc.returncode != 0 or "Result: PASS" not in proc.stdout:
            failing = [ln.strip() for ln in proc.stdout.splitlines() if "FAIL" in ln]
            why = "; ".join(failing) or (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise _Failed(f"the traced run failed (exit {proc.returncode}): {why[:300]}")
        calls = parse_strace(text)
        if not any(c.syscall == "execve" for c in calls):
            raise _Failed("strace recorded nothing of the child (is ptrace allowed here?)")
        network = [c for c in calls if c.syscall != "execve"]
        internet = [c for c in network if c.family in INTERNET_FAMILIES]
        if internet:
            shown = ", ".join(f"{c.syscall}({c.family})" for c in internet[:5])
            raise _Failed(f"{len(internet)} internet socket calls: {shown}")
        return (
            f"strace -f -e trace=network on a second run: no AF_INET/AF_INET6 call "
            f"({len(network)} local-only network calls)"
        )

    return _timed(KERNEL, body)


def run_self_test(relaunch: Sequence[str] | None = None) -> SelfTestResult:
    """Run every check; never raises for a failing check (each is reported instead).

    ``relaunch`` is the command that runs ``--self-test`` again (the entry point knows how it
    was started: a frozen executable or ``python -m``); it is used for the traced run.
    """
    import engine.policy  # noqa: PLC0415

    mark = engine.policy.ledger().total if engine.policy.is_installed() else 0
    with tempfile.TemporaryDirectory(prefix="hearth-selftest-") as tmp:
        run = _Run(Path(tmp))
        checks = [
            _timed(POLICY, run.policy),
            _timed(MODEL, run.model),
            _timed(ANSWER, run.answer_and_store),
            _timed(STORE, run.store),
            _timed(DOCUMENTS, run.documents),
        ]
    if engine.policy.is_installed():
        checks.append(_ledger_check(mark))
    else:
        checks.append(Check(LEDGER, False, "no ledger: the egress policy is not installed"))
    checks.append(_kernel_check(relaunch))
    return SelfTestResult(tuple(checks))


def format_report(result: SelfTestResult) -> str:
    """The report ``hearth --self-test`` prints: one line per check, then the verdict."""
    from engine import __version__  # noqa: PLC0415

    frozen = " (bundled app)" if getattr(sys, "frozen", False) else ""
    lines = [f"Hearth {__version__} self-test{frozen}", ""]
    width = max(len(c.name) for c in result.checks)
    for c in result.checks:
        lines.append(f"  {c.label}  {c.name:<{width}}  {c.detail}  [{c.seconds:.1f} s]")
    lines.append("")
    if result.passed:
        lines.append("Result: PASS")
    else:
        names = ", ".join(c.name for c in result.failed) or "a required check was skipped"
        lines.append(f"Result: FAIL ({names})")
    return "\n".join(lines) + "\n"


def main(relaunch: Sequence[str] | None = None) -> int:
    """Run the self-test, print the report; 0 when it passed, 1 otherwise."""
    result = run_self_test(relaunch)
    sys.stdout.write(format_report(result))
    sys.stdout.flush()
    return 0 if result.passed else 1
