"""The policy's vocabulary: modes, one ledger entry, the error a blocked attempt raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from engine.errors import HearthError


class Mode(StrEnum):
    """What may leave this computer. Only an explicit user action changes it."""

    LOCAL_ONLY = "local-only"
    """Nothing: no connection of any kind, loopback included."""
    DOWNLOADS_ALLOWED = "downloads-allowed"
    """Only the model download, only to the catalog's hosts, only while it runs."""

    @property
    def label(self) -> str:
        return "Local-only" if self is Mode.LOCAL_ONLY else "Downloads allowed"


class Action(StrEnum):
    """The kind of attempt the ledger records."""

    SOCKET = "socket"  # creating a network socket
    CONNECT = "connect"
    DNS = "dns"  # any host-name or address lookup
    SEND = "send"  # sendto / sendmsg with a destination
    BIND = "bind"  # listening on a network address
    PROCESS = "process"  # starting another program
    BROWSER = "browser"  # opening a link in a web browser
    IMPORT = "import"  # importing a module that reaches the network
    MODE = "mode"  # the user changed the mode (not an attempt; kept for context)


@dataclass(frozen=True)
class EgressAttempt:
    """One entry of the egress ledger.

    ``host`` is a host name or address ("" when the attempt names none, as when a socket is
    created); for a program it is empty and ``detail`` names the program (never its
    arguments: they may carry user text). ``module`` is the nearest calling module outside the
    standard library.
    """

    time: datetime
    action: Action
    host: str
    port: int | None
    module: str
    mode: Mode
    allowed: bool
    detail: str = ""

    @property
    def target(self) -> str:
        """Where it went, for people: ``host:port``, the program, or the detail."""
        if self.host:
            if self.port is None:
                return self.host
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"{host}:{self.port}"
        return self.detail


class EgressBlocked(HearthError, PermissionError):
    """The egress policy refused an attempt to reach outside this computer.

    A ``PermissionError`` too, so that code written for an offline machine (``except OSError``)
    degrades as it would there; ``urllib`` wraps it in ``URLError.reason``.
    """

    def __init__(self, attempt: EgressAttempt, why: str = "") -> None:
        self.attempt = attempt
        what = _describe(attempt)
        if not why:
            why = (
                "Local-only mode is on, so nothing leaves this computer."
                if attempt.mode is Mode.LOCAL_ONLY
                else "Only a model download you started may reach the catalog's hosts."
            )
        network = attempt.action in _NETWORK_ACTIONS
        super().__init__(
            f"Hearth blocked {what}: {why}",
            "To download a model, allow downloads in the settings and start the download "
            "again; otherwise nothing to do."
            if network
            else "Nothing to do.",
        )


_NETWORK_ACTIONS = frozenset({Action.SOCKET, Action.CONNECT, Action.DNS, Action.SEND})


def _describe(attempt: EgressAttempt) -> str:
    target = attempt.target
    match attempt.action:
        case Action.SOCKET:
            return f"opening a network socket ({attempt.detail})"
        case Action.CONNECT:
            return f"a connection to {target}"
        case Action.DNS:
            return f"a name lookup of {attempt.host or 'this machine'}"
        case Action.SEND:
            return f"sending data to {target or 'the network'}"
        case Action.BIND:
            return f"listening on {target or 'a network address'}"
        case Action.PROCESS:
            return f"starting the program '{attempt.detail}'"
        case Action.BROWSER:
            return f"opening a link to {attempt.host or 'a web page'} in the browser"
        case Action.IMPORT:
            return f"loading the network module '{attempt.detail}'"
        case _:
            return f"changing the mode ({attempt.detail})"
