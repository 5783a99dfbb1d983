"""Qt's own log output, with addresses and quoted text taken out.

Qt writes warnings to stderr, and some name what they were given: a link's full address,
query included (``QDesktopServices::openUrl``), or a piece of text in quotes. A terminal's
scrollback or a session log is not encrypted, so the handler keeps the kind of message and
its category and replaces anything that looks like an address, a path or quoted text.
"""

from __future__ import annotations

import re
import sys

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

_ADDRESS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+|\b(?:mailto|data|file|tel|javascript):\S+")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|“[^”]*”")
_PATH = re.compile(r"(?<![\w.])(/|~/)[^\s:]+")
_KINDS = {
    QtMsgType.QtDebugMsg: "debug",
    QtMsgType.QtInfoMsg: "info",
    QtMsgType.QtWarningMsg: "warning",
    QtMsgType.QtCriticalMsg: "critical",
    QtMsgType.QtFatalMsg: "fatal",
}
MAX_CHARS = 300


def scrub(message: str) -> str:
    """``message`` without addresses, paths or quoted text, and not longer than a line."""
    text = _ADDRESS.sub("<address>", message)
    text = _QUOTED.sub("<text>", text)
    text = _PATH.sub("<path>", text)
    return text[:MAX_CHARS]


def _handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if kind == QtMsgType.QtDebugMsg:
        return  # Qt's debug chatter says nothing a person needs
    category = context.category or "qt"
    print(f"Qt {_KINDS.get(kind, 'message')} ({category}): {scrub(message)}", file=sys.stderr)


def install() -> None:
    """From now on every Qt message goes through ``scrub``."""
    qInstallMessageHandler(_handler)
