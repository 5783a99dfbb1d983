"""Hearth's design system: the tokens (light and dark colours, spacing, radii, type scale), the
stylesheet made from them, the icons, and the choice of light or dark (the OS's, or the
person's).

Widgets ask here instead of hard-coding colours or pixels, so a dark desktop and a 200 % display
both look right. Widgets name their role with ``objectName`` or a ``role`` property; the
stylesheet styles the roles.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

from engine.paths import PROJECT_ROOT

Scheme = Literal["light", "dark"]
Choice = Literal["system", "light", "dark"]
ICONS = PROJECT_ROOT / "assets" / "icons"


@dataclass(frozen=True)
class Tokens:
    """The colours of one scheme, by role."""

    window: str  # the window behind everything
    surface: str  # the chat column, inputs
    sidebar: str
    raised: str  # the composer, cards
    border: str
    text: str
    muted: str  # secondary text: stats, hints, section headers
    accent: str  # primary actions, the focus ring, links
    on_accent: str
    user_bubble: str
    user_text: str
    hover: str
    selected: str
    warning: str
    danger: str
    highlight: str  # behind search matches
    notice: str  # behind notices (thinking budget reached, context trimmed)


LIGHT = Tokens(
    window="#f7f6f3",
    surface="#ffffff",
    sidebar="#f0eee9",
    raised="#ffffff",
    border="#dedad2",
    text="#1f1d1a",
    muted="#6e6a63",
    accent="#c2410c",
    on_accent="#ffffff",
    user_bubble="#efece6",
    user_text="#1f1d1a",
    hover="#e7e3dc",
    selected="#e2ddd4",
    warning="#b45309",
    danger="#b91c1c",
    highlight="#ffe58a",
    notice="#fdf2e3",
)
DARK = Tokens(
    window="#1b1a18",
    surface="#211f1d",
    sidebar="#181715",
    raised="#2a2825",
    border="#3a3733",
    text="#ece9e4",
    muted="#a29d95",
    accent="#f08a4b",
    on_accent="#1b1a18",
    user_bubble="#302d29",
    user_text="#ece9e4",
    hover="#2f2c28",
    selected="#3a3631",
    warning="#f5b86b",
    danger="#f28b82",
    highlight="#7a5c00",
    notice="#3a2e20",
)

# Spacing and radii in ems (they follow the font); the type scale as factors of the body size.
SPACE = {"xs": 0.25, "s": 0.5, "m": 0.75, "l": 1.0, "xl": 1.5}
RADIUS = {"small": 0.35, "medium": 0.6, "large": 1.0}
TYPE = {"small": 0.88, "body": 1.0, "title": 1.3}
# The chat reads in a column no wider than this (pixels at 100 %), as in ChatGPT.
READING_WIDTH = 760

# Pygments styles that ship with Pygments (nothing is fetched).
CODE_STYLE = {"light": "default", "dark": "monokai"}


def color_scheme() -> Scheme:
    """The scheme in use: the person's choice, else the OS's."""
    return _choice if _choice != "system" else os_scheme()


def code_style_name(scheme: Scheme | None = None) -> str:
    return CODE_STYLE[scheme or color_scheme()]


def highlight_color(scheme: Scheme | None = None) -> QColor:
    """Background behind search matches: readable on either scheme."""
    return QColor(tokens(scheme).highlight)


def warning_color(scheme: Scheme | None = None) -> QColor:
    """Text that needs attention (context nearly full)."""
    return QColor(tokens(scheme).warning)


def muted_color(widget: QWidget) -> QColor:
    """Secondary text (section headers, stats): the palette's placeholder colour."""
    return widget.palette().color(QPalette.ColorRole.PlaceholderText)


def em(widget: QWidget, n: float = 1.0) -> int:
    """``n`` times the widget's font height in device-independent pixels: sizes follow the
    font, and Qt scales them for high-DPI screens."""
    return max(1, round(widget.fontMetrics().height() * n))


def tokens(scheme: Scheme | None = None) -> Tokens:
    return DARK if (scheme or color_scheme()) == "dark" else LIGHT


def palette(t: Tokens) -> QPalette:
    """A full palette from the tokens: every platform then looks the same, and a dark desktop
    whose platform theme gives Qt a light palette (X11 without one) still gets dark."""
    p = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, t.window),
        (QPalette.ColorRole.WindowText, t.text),
        (QPalette.ColorRole.Base, t.surface),
        (QPalette.ColorRole.AlternateBase, t.sidebar),
        (QPalette.ColorRole.Text, t.text),
        (QPalette.ColorRole.Button, t.raised),
        (QPalette.ColorRole.ButtonText, t.text),
        (QPalette.ColorRole.ToolTipBase, t.raised),
        (QPalette.ColorRole.ToolTipText, t.text),
        (QPalette.ColorRole.BrightText, t.on_accent),
        (QPalette.ColorRole.Highlight, t.selected),
        (QPalette.ColorRole.HighlightedText, t.text),
        (QPalette.ColorRole.Link, t.accent),
        (QPalette.ColorRole.PlaceholderText, t.muted),
    ):
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(t.muted))
    return p


def stylesheet(t: Tokens, font_px: int) -> str:
    """The application's stylesheet, made from the tokens for a body font of ``font_px``."""

    def px(em: float) -> str:
        return f"{max(1, round(em * font_px))}px"

    r_small, r_medium, r_large = (px(RADIUS[k]) for k in ("small", "medium", "large"))
    s_xs, s_s, s_m = (px(SPACE[k]) for k in ("xs", "s", "m"))
    return f"""
QMainWindow, QDialog {{ background: {t.window}; color: {t.text}; }}
QToolTip {{ background: {t.raised}; color: {t.text}; border: 1px solid {t.border};
    padding: {s_xs}; }}
QPushButton {{ background: {t.raised}; color: {t.text}; border: 1px solid {t.border};
    border-radius: {r_small}; padding: {s_xs} {s_m}; }}
QPushButton:hover {{ background: {t.hover}; }}
QPushButton:disabled {{ color: {t.muted}; }}
QPushButton[role="primary"] {{ background: {t.accent}; color: {t.on_accent};
    border: 1px solid {t.accent}; }}
QPushButton[role="primary"]:disabled {{ background: {t.border}; border-color: {t.border};
    color: {t.muted}; }}
QPushButton[role="icon"] {{ background: transparent; border: none; }}
QPushButton[role="icon"]:hover {{ background: {t.hover}; }}
#composerFrame QPushButton {{ border-radius: {px(0.9)}; padding: 0; }}
QToolButton {{ background: transparent; border: none; border-radius: {r_small};
    padding: {s_xs}; color: {t.muted}; }}
QToolButton:hover {{ background: {t.hover}; color: {t.text}; }}
QToolButton:checked {{ background: {t.selected}; }}
QToolButton:focus, QPushButton:focus {{ outline: none; border: 1px solid {t.accent}; }}
QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {t.surface}; color: {t.text}; border: 1px solid {t.border};
    border-radius: {r_small}; padding: {s_xs}; selection-background-color: {t.accent};
    selection-color: {t.on_accent}; }}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus {{ border: 1px solid {t.accent}; }}
QStatusBar {{ background: {t.window}; color: {t.muted}; }}
QSplitter::handle {{ background: {t.border}; width: 1px; }}
QScrollArea, QScrollArea > QWidget > QWidget {{ background: {t.surface}; border: none; }}
QScrollBar:vertical {{ background: transparent; width: {px(0.6)}; margin: 0; }}
QScrollBar::handle:vertical {{ background: {t.border}; border-radius: {px(0.3)};
    min-height: {px(2)}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
#sidebar {{ background: {t.sidebar}; }}
#sidebar QListView {{ background: {t.sidebar}; border: none; }}
#sidebar QLineEdit {{ border-radius: {r_medium}; padding: {s_xs} {s_s}; }}
#chatColumn {{ background: {t.surface}; }}
#toolbar {{ background: {t.surface}; border-bottom: 1px solid {t.border}; }}
#composerFrame {{ background: {t.raised}; border: 1px solid {t.border};
    border-radius: {r_large}; }}
#composerFrame QPlainTextEdit {{ background: transparent; border: none; padding: {s_xs}; }}
QTextBrowser {{ border: none; background: transparent; padding: 0; }}
#codeBlock {{ background: {t.raised}; border: 1px solid {t.border};
    border-radius: {r_medium}; }}
#codeBlock QPlainTextEdit, #codeBlock QTextEdit {{ border: none; border-radius: 0;
    border-top: 1px solid {t.border}; }}
#codeBlock QPushButton {{ border: none; background: transparent; color: {t.muted}; }}
#assistantMessage[marked="true"], #userMessage[marked="true"] {{
    background: {t.highlight}; border-radius: {r_medium}; }}
#userBubble {{ background: {t.user_bubble}; color: {t.user_text};
    border-radius: {r_medium}; }}
#statsLabel, #hintLabel, #sectionLabel, #tokenLabel {{ color: {t.muted}; }}
#noticeLabel {{ background: {t.notice}; color: {t.text}; border-radius: {r_small};
    padding: {s_xs} {s_s}; }}
#errorLabel {{ color: {t.danger}; }}
#thinkingSection QPlainTextEdit {{ background: transparent; color: {t.muted};
    border: none; border-left: 2px solid {t.border}; padding-left: {s_s}; }}
#thinkingSection QToolButton {{ color: {t.muted}; }}
#attachmentChip {{ background: {t.surface}; border: 1px solid {t.border};
    border-radius: {r_small}; }}
#attachmentChip QToolButton {{ padding: 0; }}
QPushButton#sourceButton {{ background: {t.surface}; color: {t.muted};
    border-radius: {r_small}; padding: {px(0.1)} {s_s}; }}
QPushButton#sourceButton[cited="true"] {{ color: {t.text}; border-color: {t.accent}; }}
QPushButton#sourceButton:hover {{ background: {t.hover}; color: {t.text}; }}
#welcomeTitle {{ font-size: {px(TYPE["title"])}; font-weight: 600; }}
#lockScreen {{ background: {t.window}; }}
"""


@functools.cache
def _svg(name: str) -> str:
    return (ICONS / f"{name}.svg").read_text(encoding="utf-8")


def icon(name: str, color: str | None = None, size: int = 64) -> QIcon:
    """One of Hearth's icons (``assets/icons/<name>.svg``) drawn in ``color`` (default: the
    scheme's text colour). Drawn here, so no image plugin and no icon theme is needed; drawn
    once for each name, colour and size (every message has several)."""
    return _icon(name, color or tokens().text, size)


@functools.lru_cache(maxsize=256)
def _icon(name: str, color: str, size: int) -> QIcon:
    svg = _svg(name).replace("currentColor", color)
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return QIcon(pixmap)


_choice: Choice = "system"
_text_scale = 1.0
_base_point_size: float | None = None
_platform_palette: QPalette | None = None
_os_hint: Qt.ColorScheme = Qt.ColorScheme.Unknown


def os_scheme() -> Scheme:
    """What the OS says (its last reported change, its style hint, else the platform's own
    palette)."""
    hints = [_os_hint]
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        hints.append(app.styleHints().colorScheme())
    for hint in hints:
        if hint == Qt.ColorScheme.Dark:
            return "dark"
        if hint == Qt.ColorScheme.Light:
            return "light"
    if isinstance(app, QGuiApplication):
        base = _platform_palette if _platform_palette is not None else app.palette()
        return "dark" if base.color(QPalette.ColorRole.Window).lightnessF() < 0.5 else "light"
    return "light"


def choice() -> tuple[Choice, float]:
    return _choice, _text_scale


def choose(app: QApplication, chosen: Choice, text_scale: float = 1.0) -> None:
    """The person's choice from Settings: System, Light or Dark, and the text size."""
    global _choice, _text_scale
    _choice, _text_scale = chosen, text_scale
    apply_look(app)


def apply_look(app: QApplication) -> None:
    """Palette, font size and stylesheet for the current choice, on every widget at once."""
    global _base_point_size, _platform_palette  # noqa: PLW0603 — the platform's, kept once
    if _platform_palette is None:
        _platform_palette = QPalette(app.palette())  # before ours replaces it
    t = tokens(color_scheme())
    font = app.font()
    if _base_point_size is None:
        _base_point_size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
    font.setPointSizeF(_base_point_size * _text_scale)
    app.setFont(font)
    app.setPalette(palette(t))
    app.setStyleSheet(stylesheet(t, max(8, round(font.pointSizeF() * 96 / 72))))


def follow_os(app: QApplication) -> None:
    """Keep the look in step with the OS colour scheme, now and when it changes."""
    global _platform_palette  # noqa: PLW0603 — the platform's palette, kept once
    if _platform_palette is None:
        _platform_palette = QPalette(app.palette())
    app.styleHints().colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))
    apply_look(app)


def apply_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    """What the app does when the OS reports ``scheme``: with the System choice, the look
    follows it."""
    global _os_hint  # noqa: PLW0603 — the OS's last word
    _os_hint = scheme
    apply_look(app)
