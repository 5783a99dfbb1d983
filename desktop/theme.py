"""Light or dark, following the operating system, and sizes that scale with the font.

Widgets ask here instead of hard-coding colours or pixels, so a dark desktop and a 200 % display
both look right.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

Scheme = Literal["light", "dark"]

# Pygments styles that ship with Pygments (nothing is fetched).
CODE_STYLE = {"light": "default", "dark": "monokai"}


def color_scheme() -> Scheme:
    """The OS colour scheme (QStyleHints.colorScheme); the palette decides when the OS does not
    say, as on the offscreen platform."""
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        scheme = app.styleHints().colorScheme()
        if scheme == Qt.ColorScheme.Dark:
            return "dark"
        if scheme == Qt.ColorScheme.Light:
            return "light"
        window = app.palette().color(QPalette.ColorRole.Window)
        return "dark" if window.lightnessF() < 0.5 else "light"
    return "light"


def code_style_name(scheme: Scheme | None = None) -> str:
    return CODE_STYLE[scheme or color_scheme()]


def highlight_color(scheme: Scheme | None = None) -> QColor:
    """Background behind search matches: readable on either scheme."""
    return QColor("#7a5c00") if (scheme or color_scheme()) == "dark" else QColor("#ffe58a")


def warning_color(scheme: Scheme | None = None) -> QColor:
    """Text that needs attention (context nearly full)."""
    return QColor("#ff8a80") if (scheme or color_scheme()) == "dark" else QColor("#b00020")


def muted_color(widget: QWidget) -> QColor:
    """Secondary text (section headers, stats): the palette's placeholder colour."""
    return widget.palette().color(QPalette.ColorRole.PlaceholderText)


def em(widget: QWidget, n: float = 1.0) -> int:
    """``n`` times the widget's font height in device-independent pixels: sizes follow the
    font, and Qt scales them for high-DPI screens."""
    return max(1, round(widget.fontMetrics().height() * n))
