"""The audit hook and the state it decides with. Private: use ``engine.policy``.

Python calls the hook for every audit event; raising from it aborts the operation. It sees
only Python code (not Qt or llama.cpp), which is why the proof of "no egress" is the
operating system's view (``privacy_check``) and the build's sandbox (``packaging/EGRESS.md``).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib.machinery import ModuleSpec
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlsplit

from engine.policy.ledger import Ledger
from engine.policy.process import forbid_core_dumps
from engine.policy.types import Action, EgressAttempt, EgressBlocked, Mode

# The one module that may open a download window; more are named by an entry point's
# install() (the test session adds its own), never afterwards.
DOWNLOAD_MODULES: frozenset[str] = frozenset({"engine.catalog.download"})
# Packages whose code runs on a person's explicit action and so may widen the mode.
USER_ACTION_MODULES: tuple[str, ...] = ("engine.cli", "desktop")
# Programs Hearth may start besides its own interpreter: the privacy check's tracers and the
# GPU probe of engine/catalog/hardware.py. Everything else (curl, wget, browsers, shells) is
# refused.
ALLOWED_PROGRAMS: tuple[str, ...] = ("strace", "unshare", "nvidia-smi")
# Modules that exist to reach the network; importing one is refused.
BLOCKED_MODULES: tuple[str, ...] = ("huggingface_hub", "PySide6.QtNetwork", "PySide6.QtWebEngine")

HARDENING_ENV = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}

_AF_UNIX: int | None = getattr(socket, "AF_UNIX", None)
_INTERNET = frozenset({socket.AF_INET, socket.AF_INET6})
_DNS_EVENTS = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    }
)
_USE_EVENTS = {
    "socket.connect": Action.CONNECT,
    "socket.sendto": Action.SEND,
    "socket.sendmsg": Action.SEND,
    "socket.bind": Action.BIND,
}
_SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn"})
_WATCHED = frozenset(
    {
        "socket.__new__",
        *_DNS_EVENTS,
        *_USE_EVENTS,
        *_SPAWN_EVENTS,
        "os.system",
        "os.startfile",
        "webbrowser.open",
    }
)
_STDLIB = frozenset(sys.stdlib_module_names)


def _module_of(frame: FrameType) -> str:
    g = frame.f_globals
    name = g.get("__name__", "?")
    spec = g.get("__spec__")
    if name == "__main__" and spec is not None and getattr(spec, "name", None):
        return str(spec.name)  # `python -m engine.cli` runs as __main__
    return str(name)


def _in(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _frames() -> Iterable[FrameType]:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        yield frame
        frame = frame.f_back


def _nearest_module() -> str:
    """The first calling module outside engine.policy and the standard library (else the
    nearest standard-library one)."""
    fallback = "?"
    for frame in _frames():
        module = _module_of(frame)
        if _in(module, ("engine.policy",)):
            continue
        if module.split(".")[0] in _STDLIB:
            fallback = module
            continue
        return module
    return fallback


def _host_port(address: Any) -> tuple[str, int | None]:
    if isinstance(address, tuple) and address:
        host = address[0]
        port = address[1] if len(address) > 1 and isinstance(address[1], int) else None
    else:
        host, port = address, None
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode("ascii", "replace")
    return (str(host) if host is not None else ""), port


def _family_name(family: int) -> str:
    try:
        return socket.AddressFamily(family).name
    except ValueError:
        return f"family {family}"


def _kind_name(kind: int) -> str:
    try:
        return socket.SocketKind(kind & 0xF).name  # without SOCK_CLOEXEC / SOCK_NONBLOCK
    except ValueError:
        return f"type {kind}"


def _normal(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _is_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except (OSError, ValueError):
        return False
    return True


class _DownloadWindow:
    """While entered, the download code may reach ``hosts`` (if the mode allows downloads)."""

    def __init__(self, guard: Guard, hosts: frozenset[str]) -> None:
        self._guard, self.hosts = guard, hosts
        self.resolved: dict[int, str] = {}  # thread id → the allowed host it last looked up

    def __enter__(self) -> None:
        with self._guard.lock:
            self._guard.windows.append(self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._guard.lock:
            self._guard.windows.remove(self)


class _BlockedModuleFinder:
    """First on sys.meta_path: refuses modules that exist to reach the network."""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if _in(name, BLOCKED_MODULES) or name.startswith("PySide6.QtWebEngine"):
            self._guard.refuse(
                Action.IMPORT, "", None, detail=name, why="Hearth never loads network modules."
            )
        return None


class Guard:
    """The policy's state (mode, download windows, ledger) and the audit hook deciding on it."""

    def __init__(
        self, mode: Mode, *, download_modules: Iterable[str], user_action_modules: Iterable[str]
    ) -> None:
        self.lock = threading.Lock()
        self.mode = mode
        self.download_modules = frozenset(download_modules)
        self.user_action_modules = tuple(user_action_modules)
        self.windows: list[_DownloadWindow] = []
        self.ledger = Ledger()
        self.programs = self._resolve_programs()
        self._local = threading.local()  # per thread: the program just allowed to start

    @staticmethod
    def _resolve_programs() -> frozenset[str]:
        # Resolved once, here: a later change of PATH cannot add a program. Hearth's own are
        # its interpreter and the `hearth` launcher installed beside it.
        launcher = shutil.which("hearth", path=os.path.dirname(sys.executable))
        found = [sys.executable, launcher, *(shutil.which(p) for p in ALLOWED_PROGRAMS)]
        return frozenset(os.path.realpath(p) for p in found if p)

    # ---- the audit hook ------------------------------------------------------------------

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _WATCHED:  # the hook runs for every event: keep this path short
            return
        if event == "socket.__new__":
            self._on_socket_created(args[1], args[2])
        elif event in _USE_EVENTS:
            self._on_socket_used(_USE_EVENTS[event], args[0], args[1])
        elif event in _DNS_EVENTS:
            host, port = _host_port(args[0])
            if event == "socket.getaddrinfo" and isinstance(args[1], int):
                port = args[1]
            self._check_reach(Action.DNS, host, port)
        elif event == "subprocess.Popen":
            self._on_spawn(args[0], args[3], via_subprocess=True)
        elif event == "os.spawn":
            self._on_spawn(args[1], args[3], via_subprocess=False)
        elif event in ("os.posix_spawn", "os.exec"):
            self._on_spawn(args[0], args[2], via_subprocess=False)
        elif event == "os.system":
            command = os.fsdecode(args[0]).split()
            self.refuse(
                Action.PROCESS,
                "",
                None,
                detail=os.path.basename(command[0]) if command else "a shell",
                why="Hearth never runs shell commands.",
            )
        elif event == "os.startfile":
            self.refuse(
                Action.PROCESS,
                "",
                None,
                detail="the default app for a file",
                why="a link or file opens only after you confirm it.",
            )
        elif event == "webbrowser.open":
            host = urlsplit(str(args[0])).hostname or ""
            self.refuse(Action.BROWSER, host, None, why="a link opens only after you confirm it.")

    def _on_socket_created(self, family: int, kind: int) -> None:
        if family in (_AF_UNIX, -1):
            # AF_UNIX is local IPC (D-Bus, the keychain). -1 wraps an existing descriptor;
            # what is done with that socket is still checked below.
            return
        detail = f"{_family_name(family)}, {_kind_name(kind)}"
        if family not in _INTERNET:
            self.refuse(Action.SOCKET, "", None, detail=detail, why="Hearth uses no such socket.")
        why = self._download_path_open()
        if why is None:
            return  # a download on its way: its lookups and connects are checked one by one
        self.refuse(Action.SOCKET, "", None, detail=detail, why=why or None)

    def _on_socket_used(self, action: Action, sock: Any, address: Any) -> None:
        family = getattr(sock, "family", None)
        if family == _AF_UNIX:
            return
        host, port = _host_port(address)
        if action is Action.BIND:
            self.refuse(
                action,
                host,
                port,
                detail=_family_name(int(family or 0)),
                why="Hearth never listens on the network.",
            )
        self._check_reach(action, host, port)

    def _check_reach(self, action: Action, host: str, port: int | None) -> None:
        why = self._download_path_open()
        detail = ""
        if why is None:
            name, thread = _normal(host), threading.get_ident()
            windows = list(self.windows)
            resolved = next((w.resolved[thread] for w in windows if thread in w.resolved), None)
            if any(name in w.hosts for w in windows):
                if action is Action.DNS:
                    for w in windows:
                        if name in w.hosts:
                            w.resolved[thread] = name
            elif action is Action.CONNECT and _is_address(name) and resolved is not None:
                # The hook cannot see a lookup's answer: an address is taken to be the answer
                # of the lookup this thread was last allowed in this window (create_connection
                # looks up, then connects to each address in turn).
                detail = f"address of {resolved}"
            else:
                why = f"{host or 'that address'} is not a host the model catalog names."
        if why is not None:
            self.refuse(action, host, port, why=why or None)
        self.record(action, host, port, allowed=True, detail=detail)

    def _download_path_open(self) -> str | None:
        """None when a network attempt here may go ahead (hosts still to check); else why not
        ("" for the mode's own explanation)."""
        if self.mode is Mode.LOCAL_ONLY:
            return ""
        if not self.windows:
            return "no model download is running."
        for frame in _frames():
            if _module_of(frame) in self.download_modules:
                return None
        return "only the model download may reach the network."

    def _on_spawn(self, executable: Any, env: Any, *, via_subprocess: bool) -> None:
        name = os.fsdecode(executable)
        if os.sep in name or (os.altsep and os.altsep in name):
            path: str | None = name
        else:
            try:
                search = os.pathsep.join(
                    os.get_exec_path(env if isinstance(env, Mapping) else None)
                )
            except (TypeError, ValueError, UnicodeError):
                search = None
            path = shutil.which(name, path=search)
        program = os.path.basename(name)
        real = os.path.realpath(path) if path else ""
        if real not in self.programs:
            self.refuse(
                Action.PROCESS,
                "",
                None,
                detail=program,
                why="Hearth starts no program but its own and its self-check tools.",
            )
        # subprocess may raise os.posix_spawn right after subprocess.Popen: one launch, one entry.
        just_spawned, self._local.spawned = getattr(self._local, "spawned", None), None
        if via_subprocess:
            self._local.spawned = real
        elif just_spawned == real:
            return
        self.record(Action.PROCESS, "", None, allowed=True, detail=program)

    # ---- recording -------------------------------------------------------------------------

    def record(
        self, action: Action, host: str, port: int | None, *, allowed: bool, detail: str = ""
    ) -> EgressAttempt:
        entry = EgressAttempt(
            time=datetime.now(UTC),
            action=action,
            host=host,
            port=port,
            module=_nearest_module(),
            mode=self.mode,
            allowed=allowed,
            detail=detail,
        )
        self.ledger.record(entry)
        return entry

    def refuse(
        self,
        action: Action,
        host: str,
        port: int | None,
        *,
        detail: str = "",
        why: str | None = None,
    ) -> None:
        """Record a blocked attempt and raise. Raises: EgressBlocked, always."""
        entry = self.record(action, host, port, allowed=False, detail=detail)
        raise EgressBlocked(entry, why or "")

    # ---- mode and downloads -----------------------------------------------------------------

    def set_mode(self, mode: Mode) -> None:
        if mode is self.mode:
            return
        if mode is not Mode.LOCAL_ONLY:
            caller = _nearest_module()
            if not _in(caller, self.user_action_modules):
                self.refuse(
                    Action.MODE,
                    "",
                    None,
                    detail=f"{self.mode.label} → {mode.label}",
                    why="only you can allow downloads, in the settings.",
                )
        change = f"{self.mode.label} → {mode.label}"
        self.mode = mode
        self.record(Action.MODE, "", None, allowed=True, detail=change)

    def download_window(self, hosts: Iterable[str], reason: str) -> _DownloadWindow:
        wanted = frozenset(_normal(h) for h in hosts)
        first = min(wanted, default="")
        if _nearest_module() not in self.download_modules:
            self.refuse(
                Action.CONNECT,
                first,
                None,
                detail=reason,
                why="only the model download may reach the network.",
            )
        if self.mode is Mode.LOCAL_ONLY:
            self.refuse(Action.CONNECT, first, None, detail=reason)
        return _DownloadWindow(self, wanted)


_guard: Guard | None = None
_install_lock = threading.Lock()


def install(
    mode: Mode, *, download_modules: Iterable[str], user_action_modules: Iterable[str]
) -> Guard:
    global _guard  # noqa: PLW0603 - one policy per process: audit hooks cannot be removed
    os.environ.update(HARDENING_ENV)
    with _install_lock:
        if _guard is None:
            forbid_core_dumps()  # before any secret is in memory
            guard = Guard(
                mode, download_modules=download_modules, user_action_modules=user_action_modules
            )
            sys.addaudithook(guard.hook)
            sys.meta_path.insert(0, _BlockedModuleFinder(guard))
            _guard = guard
        return _guard


def installed() -> Guard:
    if _guard is None:
        raise RuntimeError("engine.policy.install() has not been called in this process")
    return _guard


def current() -> Guard | None:
    return _guard
