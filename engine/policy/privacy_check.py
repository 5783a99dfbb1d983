"""``hearth privacy-check``: a self-audit any person can run, from the operating system's side.

The audit hook sees Python code only. This check runs a short offline chat (ask → answer →
store) in a child process and reports every network system call that process and its
threads and children made, as the kernel saw them: under ``strace -f -e trace=network`` where
strace exists, otherwise inside a fresh network namespace (``unshare -n``), where no network
exists at all. Then it checks the data on disk: no plain SQLite database, the check's own
question nowhere in plain text, and where each kind of data lives.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine import paths

QUESTION = "Hearth privacy check: what is two plus two?"
# Families whose traffic can leave the machine. AF_UNIX and AF_NETLINK stay inside it.
INTERNET_FAMILIES = frozenset({"AF_INET", "AF_INET6", "AF_PACKET"})
_SQLITE_HEADER = b"SQLite format 3\x00"
_SCAN_LIMIT = 512 * 1024 * 1024  # files larger than this (models) are not searched


@dataclass(frozen=True)
class NetworkCall:
    """One network system call the kernel saw. ``family`` is "?" when strace did not say."""

    pid: int
    syscall: str
    family: str
    result: str


@dataclass(frozen=True)
class DatabaseCheck:
    path: Path
    exists: bool
    encrypted: bool
    detail: str


@dataclass(frozen=True)
class PrivacyCheckResult:
    """What ``run_privacy_check`` found. ``passed`` is the verdict."""

    method: str  # "strace", "unshare" or "none"
    command: tuple[str, ...]
    exit_code: int | None
    answered: bool
    duration_s: float
    calls: tuple[NetworkCall, ...] = ()
    databases: tuple[DatabaseCheck, ...] = ()
    plaintext_files: tuple[Path, ...] = ()
    locations: tuple[tuple[str, str], ...] = ()
    error: str = ""
    scanned: tuple[Path, ...] = field(default=())

    @property
    def internet_calls(self) -> tuple[NetworkCall, ...]:
        return tuple(c for c in self.calls if c.family in INTERNET_FAMILIES)

    @property
    def passed(self) -> bool:
        return (
            self.method != "none"
            and not self.error
            and self.exit_code == 0
            and self.answered
            and not self.internet_calls
            and not self.plaintext_files
            and all(d.encrypted for d in self.databases if d.exists)
        )


# ---- strace ---------------------------------------------------------------------------------

_LINE = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)$")
_RESUMED = re.compile(r"^<\.\.\. (?P<name>\w+) resumed>(?P<tail>.*)$")
_RESULT = re.compile(r"\)\s+=\s+(?P<result>.+)$")
_FAMILY = re.compile(r"sa_family=(?P<family>[AP]F_\w+)")
_FIRST_FAMILY = re.compile(r"^(?P<family>[AP]F_\w+)")
_FD = re.compile(r"^(?P<fd>\d+)")


def parse_strace(text: str) -> list[NetworkCall]:
    """Network calls in the output of ``strace -f -e trace=network -o FILE``.

    The family comes from the call itself (``socket(AF_INET, …)``, ``sa_family=…``) or, for
    calls that pass only a descriptor, from the ``socket()`` call that returned it.
    """
    calls: list[NetworkCall] = []
    pending: dict[int, int] = {}  # pid → index in calls of an <unfinished ...> call
    fds: dict[tuple[int, int], str] = {}
    fds_any: dict[int, str] = {}  # threads share descriptors but have their own ids

    def remember(pid: int, name: str, family: str, result: str) -> None:
        if name in ("socket", "accept", "accept4") and family != "?":
            m = _FD.match(result)
            if m:
                fds[pid, int(m["fd"])] = fds_any[int(m["fd"])] = family

    for raw in text.splitlines():
        line = _LINE.match(raw.strip())
        if not line:
            continue
        pid, rest = int(line["pid"]), line["rest"]
        resumed = _RESUMED.match(rest)
        if resumed:
            index = pending.pop(pid, None)
            found = _RESULT.search(resumed["tail"])
            if index is not None and found:
                call = calls[index]
                calls[index] = NetworkCall(call.pid, call.syscall, call.family, found["result"])
                remember(pid, call.syscall, call.family, found["result"])
            continue
        call_match = _CALL.match(rest)
        if not call_match:
            continue  # signals, exit notes
        name, args = call_match["name"], call_match["args"]
        family_match = (
            _FIRST_FAMILY.match(args) if name in ("socket", "socketpair") else _FAMILY.search(args)
        )
        family = family_match["family"].replace("PF_", "AF_", 1) if family_match else "?"
        if family == "?" and name not in ("socket", "socketpair"):
            fd = _FD.match(args)
            if fd:
                family = fds.get((pid, int(fd["fd"]))) or fds_any.get(int(fd["fd"]), "?")
        found = _RESULT.search(args)
        result = found["result"] if found else "(unfinished)"
        if not found and "<unfinished ...>" in args:
            pending[pid] = len(calls)
        calls.append(NetworkCall(pid, name, family, result))
        if found:
            remember(pid, name, family, result)
    return calls


# ---- files on disk ---------------------------------------------------------------------------


def check_database(path: Path) -> DatabaseCheck:
    """Whether the database at ``path`` is unreadable without its key."""
    if not path.exists():
        return DatabaseCheck(path, exists=False, encrypted=False, detail="no database yet")
    with path.open("rb") as f:
        head = f.read(len(_SQLITE_HEADER))
    if head == _SQLITE_HEADER:
        return DatabaseCheck(path, True, False, "PLAIN SQLite: readable by anyone")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return DatabaseCheck(path, True, True, f"unreadable without the key (SQLite: {exc})")
    return DatabaseCheck(path, True, False, "READABLE without the key")


def _files(roots: Iterable[Path]) -> Iterable[Path]:
    for root in roots:
        if root.is_dir():
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    path = Path(dirpath, name)
                    if path.is_file() and not path.is_symlink():
                        yield path


def find_plaintext(roots: Iterable[Path], needle: bytes) -> tuple[list[Path], list[Path]]:
    """(files containing ``needle``, plain SQLite databases) under ``roots``."""
    hits: list[Path] = []
    plain_db: list[Path] = []
    for path in _files(roots):
        try:
            if path.stat().st_size > _SCAN_LIMIT:
                continue
            with path.open("rb") as f:
                if f.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER:
                    plain_db.append(path)
                f.seek(0)
                tail = b""
                while chunk := f.read(1 << 20):
                    if needle in tail + chunk:
                        hits.append(path)
                        break
                    tail = chunk[-len(needle) :]
        except OSError:
            continue
    return hits, plain_db


def data_locations(database_path: Path | None = None) -> list[tuple[str, str]]:
    """Where each kind of Hearth's data lives on this machine."""
    keychain = {"darwin": "the macOS Keychain", "win32": "Windows Credential Manager"}.get(
        sys.platform, "the Secret Service keyring (GNOME Keyring, KWallet)"
    )
    return [
        ("Conversations (encrypted)", str(database_path or paths.data_dir())),
        ("Database key", keychain),
        ("Egress ledger", "inside the encrypted conversation database"),
        ("Settings (no conversation text)", str(paths.config_dir())),
        ("Downloaded models", str(paths.models_dir())),
        ("Starter model (read-only)", str(paths.bundled_models_dir())),
    ]


# ---- the check --------------------------------------------------------------------------------


def default_command(max_tokens: int = 16) -> list[str]:
    """The child the check traces: one ``hearth ask`` through the real CLI."""
    return [sys.executable, "-m", "engine.cli", "ask", "--max-tokens", str(max_tokens), QUESTION]


def _choose_method(method: str) -> str:
    if method != "auto":
        return method
    if shutil.which("strace"):
        return "strace"
    if sys.platform.startswith("linux") and shutil.which("unshare"):
        return "unshare"
    return "none"


def run_privacy_check(
    *,
    command: Sequence[str] | None = None,
    method: str = "auto",
    database_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 300,
) -> PrivacyCheckResult:
    """Run ``command`` (default: :func:`default_command`) traced by the OS and check the disk.

    ``method`` is "auto", "strace", "unshare" or "none". ``env`` is added to this process's
    environment for the child (tests point it at a temporary profile). The child uses the
    person's own profile otherwise, as ``hearth ask`` would.
    """
    argv = list(command or default_command())
    chosen = _choose_method(method)
    child_env = {**os.environ, **(env or {})}
    locations = tuple(data_locations(database_path))
    with tempfile.TemporaryDirectory(prefix="hearth-privacy-") as tmp:
        trace = Path(tmp, "trace.txt")
        if chosen == "strace":
            strace = shutil.which("strace") or "strace"
            run = [strace, "-f", "-qq", "-e", "trace=network", "-o", str(trace), "--", *argv]
        elif chosen == "unshare":
            # Unprivileged: a user namespace (-r) lets a normal user make a network namespace.
            unshare = shutil.which("unshare") or "unshare"
            as_root = hasattr(os, "geteuid") and os.geteuid() == 0
            run = [unshare, *([] if as_root else ["-r"]), "-n", "--", *argv]
        else:
            run = argv
        started = time.monotonic()
        try:
            proc = subprocess.run(
                run,
                capture_output=True,
                env=child_env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return PrivacyCheckResult(
                chosen,
                tuple(argv),
                None,
                False,
                time.monotonic() - started,
                locations=locations,
                error=f"the chat did not finish within {timeout_s:.0f} s",
            )
        except OSError as exc:
            return PrivacyCheckResult(
                chosen,
                tuple(argv),
                None,
                False,
                0.0,
                locations=locations,
                error=f"could not start: {exc}",
            )
        duration = time.monotonic() - started
        error = ""
        calls: list[NetworkCall] = []
        if chosen == "strace":
            if trace.exists() and trace.stat().st_size > 0:
                calls = parse_strace(trace.read_text(errors="replace"))
            elif proc.returncode != 0:
                error = "strace could not trace the chat (is ptrace allowed?)"
        if proc.returncode != 0 and not error:
            last = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            error = f"the chat failed (exit {proc.returncode}): {last[0][:300]}"
    roots = [paths.data_dir(), paths.config_dir()]
    hits, plain_dbs = find_plaintext(roots, QUESTION.encode())
    databases = [check_database(database_path)] if database_path else []
    databases += [
        DatabaseCheck(p, True, False, "PLAIN SQLite: readable by anyone")
        for p in plain_dbs
        if p != database_path
    ]
    return PrivacyCheckResult(
        method=chosen,
        command=tuple(argv),
        exit_code=proc.returncode,
        answered=proc.returncode == 0 and bool(proc.stdout.strip()),
        duration_s=duration,
        calls=tuple(calls),
        databases=tuple(databases),
        plaintext_files=tuple(hits),
        locations=locations,
        error=error,
        scanned=tuple(roots),
    )


def _method_text(method: str) -> str:
    return {
        "strace": "strace -f -e trace=network (the kernel's record of every network system "
        "call of the chat process, its threads and children)",
        "unshare": "unshare -n (the chat ran in a new network namespace: no network exists "
        "there, so it succeeding shows it needs none; the calls are not listed)",
    }.get(
        method,
        "none available on this system: see packaging/EGRESS.md for how this build is sandboxed",
    )


def format_privacy_check(result: PrivacyCheckResult) -> str:
    """The check's report, as ``hearth privacy-check`` prints it."""
    shown = " ".join(
        ("python" if i == 0 and arg == sys.executable else (f'"{arg}"' if " " in arg else arg))
        for i, arg in enumerate(result.command)
    )
    out = [
        "Hearth privacy check",
        "",
        f"Traced with: {_method_text(result.method)}",
        f"Ran:         {shown}",
        f"Outcome:     {'answered' if result.answered else 'no answer'} in "
        f"{result.duration_s:.1f} s (exit {result.exit_code})",
    ]
    if result.error:
        out.append(f"Problem:     {result.error}")
    if result.method == "strace":
        out += ["", "Network system calls, by address family:"]
        by_family: dict[str, Counter[str]] = {}
        for call in result.calls:
            by_family.setdefault(call.family, Counter())[call.syscall] += 1
        for family in ("AF_INET", "AF_INET6"):
            by_family.setdefault(family, Counter())
        for family in sorted(by_family, key=lambda f: (f not in INTERNET_FAMILIES, f)):
            counts = by_family[family]
            text = ", ".join(f"{n} {c}" for n, c in sorted(counts.items())) or "none"
            note = {
                "AF_UNIX": " (local only: D-Bus, the keychain)",
                "AF_NETLINK": " (kernel only)",
            }.get(family, "")
            out.append(f"  {family:<10} {text}{note}")
        bad = result.internet_calls
        out.append(
            "  => No system call on an internet socket (AF_INET/AF_INET6): nothing "
            "could be sent or received over a network."
            if not bad
            else f"  => {len(bad)} system call{'s' if len(bad) != 1 else ''} on internet "
            "sockets (AF_INET/AF_INET6)."
        )
    out += ["", "Data on disk:"]
    if not result.databases:
        out.append("  No database to check.")
    for db in result.databases:
        out.append(f"  {db.path}: {db.detail}")
    scanned = ", ".join(str(p) for p in result.scanned)
    if result.plaintext_files:
        out.append("  The check's question was found in PLAIN TEXT in:")
        out += [f"    {p}" for p in result.plaintext_files]
    else:
        out.append(
            f"  The check's question appears in no file under {scanned} (searched byte by byte)."
        )
    out += ["", "Where your data lives:"]
    width = max((len(k) for k, _ in result.locations), default=0)
    out += [f"  {kind:<{width}}  {where}" for kind, where in result.locations]
    out += ["", f"Result: {'PASS' if result.passed else 'FAIL'}"]
    return "\n".join(out) + "\n"
