"""Egress policy: nothing leaves this computer unless the person allowed it, and each attempt
is recorded.

Every entry point calls :func:`install` first, before any other Hearth import. It adds a
``sys.addaudithook`` hook that refuses, by default, network sockets (AF_UNIX stays allowed:
D-Bus and the keychain use it), name lookups, connects, sends and binds, and the start of any
program but Hearth's own interpreter and its self-check tools. The hook sees Python code only;
``hearth privacy-check`` shows what the operating system saw, and ``packaging/EGRESS.md``
says how each build enforces it too.

Two modes. *Local-only* (the default) lets nothing out, loopback included. *Downloads allowed*
lets the model-download module, and only while a download window it opened with
:func:`allow_downloads` is open, reach the hosts it named. Only the person widens the mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from urllib.parse import urlsplit

from engine.policy import _guard
from engine.policy._guard import ALLOWED_PROGRAMS, DOWNLOAD_MODULES, USER_ACTION_MODULES
from engine.policy.ledger import Ledger, LedgerSink
from engine.policy.types import Action, EgressAttempt, EgressBlocked, Mode

__all__ = [
    "ALLOWED_PROGRAMS",
    "DOWNLOAD_MODULES",
    "USER_ACTION_MODULES",
    "Action",
    "EgressAttempt",
    "EgressBlocked",
    "Ledger",
    "LedgerSink",
    "Mode",
    "allow_downloads",
    "current_mode",
    "install",
    "is_installed",
    "ledger",
    "record_link_opened",
    "set_mode",
]


def install(
    mode: Mode = Mode.LOCAL_ONLY,
    *,
    download_modules: Iterable[str] = DOWNLOAD_MODULES,
    user_action_modules: Iterable[str] = USER_ACTION_MODULES,
) -> Mode:
    """Put the policy in place for this process; returns the mode in force.

    Sets ``HF_HUB_OFFLINE``, ``HF_HUB_DISABLE_TELEMETRY`` and ``DO_NOT_TRACK``, adds the audit
    hook, and refuses imports of network modules (huggingface_hub, QtNetwork, QtWebEngine).
    The first call wins: a later one changes nothing (the hook cannot be removed, and a mode
    changes only through :func:`set_mode`). ``mode`` is the person's saved choice.
    ``download_modules`` are the modules allowed to open a download window and
    ``user_action_modules`` the packages allowed to widen the mode; an entry point names them
    once, here, and nothing can add to them later.
    """
    return _guard.install(
        mode, download_modules=download_modules, user_action_modules=user_action_modules
    ).mode


def is_installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return _guard.current() is not None


def current_mode() -> Mode:
    """The mode in force. Raises: RuntimeError if the policy is not installed."""
    return _guard.installed().mode


def set_mode(mode: Mode) -> None:
    """Change the mode on the person's explicit action, and record the change.

    Narrowing to Local-only is always allowed, from anywhere; widening only from
    ``user_action_modules`` (the CLI, the desktop app).
    Raises: EgressBlocked when other code tries to widen it; RuntimeError if not installed.
    """
    _guard.installed().set_mode(mode)


def allow_downloads(hosts: Iterable[str], *, reason: str) -> AbstractContextManager[None]:
    """A window in which the calling download code may reach ``hosts``.

    Usable only from a module in ``download_modules``, only in Downloads-allowed mode. Inside
    it, a lookup of or connection to one of ``hosts`` goes ahead when the call comes through
    that module; every other attempt is still refused. ``reason`` (e.g. the model's id) goes in
    the ledger when the window is refused.
    Raises: EgressBlocked (caller not a download module, or Local-only mode).
    """
    return _guard.installed().download_window(hosts, reason)


def ledger() -> Ledger:
    """This process's egress ledger. Raises: RuntimeError if the policy is not installed."""
    return _guard.installed().ledger


def record_link_opened(url: str, *, confirmed: bool) -> None:
    """Record that a link was (``confirmed``) or was not opened in the browser.

    The desktop opens links through Qt, which the hook cannot see, and asks first: a browser
    is egress by another process. Only the host is kept, never the path or query.
    """
    guard = _guard.installed()
    host = urlsplit(url).hostname or ""
    guard.record(
        Action.BROWSER,
        host,
        None,
        allowed=confirmed,
        detail="opened after you confirmed" if confirmed else "you declined",
    )
