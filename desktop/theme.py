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


def dark_palette() -> QPalette:
    """A dark palette for when the OS asks for dark but its platform theme gives Qt a light one
    (X11 without a desktop's platform theme, for one)."""
    p = QPalette()
    window, base, text = QColor("#2b2b2b"), QColor("#1e1e1e"), QColor("#e6e6e6")
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, QColor("#3a3a3a")),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.ToolTipBase, base),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.BrightText, QColor("#fff")),
        (QPalette.ColorRole.Highlight, QColor("#3d6fb4")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.Link, QColor("#8ab4f8")),
        (QPalette.ColorRole.PlaceholderText, QColor("#9a9a9a")),
    ):
        p.setColor(role, color)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#777"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#777"))
    return p


def follow_os(app: QGuiApplication) -> None:
    """Keep the palette in step with the OS colour scheme, now and when it changes."""
    app.styleHints().colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))
    apply_scheme(app, app.styleHints().colorScheme())


def apply_scheme(app: QGuiApplication, scheme: Qt.ColorScheme) -> None:
    """What the app does when the OS reports ``scheme``. Where the platform already gives a
    palette of the right lightness it is left alone; otherwise the dark palette, or the
    platform's own light one back."""
    global _platform_palette  # noqa: PLW0603 — the platform's palette, kept once
    current = app.palette()
    if _platform_palette is None:
        _platform_palette = QPalette(current)
    is_dark = current.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    if scheme == Qt.ColorScheme.Dark and not is_dark:
        app.setPalette(dark_palette())
    elif (
        scheme != Qt.ColorScheme.Dark
        and is_dark
        and _platform_palette.color(QPalette.ColorRole.Window).lightnessF() >= 0.5
    ):
        app.setPalette(_platform_palette)


_platform_palette: QPalette | None = None
