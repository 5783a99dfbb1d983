"""The theme helper follows the OS colour scheme and sizes follow the font."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from desktop import theme


def test_the_scheme_comes_from_the_os_or_else_the_palette(qtbot: QtBot, monkeypatch):
    hints = QGuiApplication.styleHints()
    monkeypatch.setattr(type(hints), "colorScheme", lambda _self: Qt.ColorScheme.Dark)
    assert theme.color_scheme() == "dark"
    assert theme.code_style_name() == "monokai"
    monkeypatch.setattr(type(hints), "colorScheme", lambda _self: Qt.ColorScheme.Light)
    assert theme.color_scheme() == "light"
    assert theme.code_style_name() == "default"
    monkeypatch.setattr(type(hints), "colorScheme", lambda _self: Qt.ColorScheme.Unknown)
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Window, QColor("#202020"))
    # The platform's own palette decides: the one kept before Hearth set its own, else the
    # application's.
    monkeypatch.setattr(theme, "_platform_palette", None)
    monkeypatch.setattr(type(QGuiApplication.instance()), "palette", staticmethod(lambda: dark))
    assert theme.color_scheme() == "dark"
    light = QPalette()
    light.setColor(QPalette.ColorRole.Window, QColor("#f0f0f0"))
    monkeypatch.setattr(theme, "_platform_palette", light)
    assert theme.color_scheme() == "light"  # Hearth's own dark palette does not count


def test_sizes_scale_with_the_font(qtbot: QtBot):
    label = QLabel()
    qtbot.addWidget(label)
    font = label.font()
    font.setPixelSize(10)
    label.setFont(font)
    small = theme.em(label, 2)
    font.setPixelSize(20)
    label.setFont(font)
    assert theme.em(label, 2) > small
    assert theme.em(label, 2) == 2 * label.fontMetrics().height()


def test_the_persons_choice_wins_over_the_os_and_restyles_the_app(
    qtbot: QtBot, monkeypatch, restore_look
):
    app = QGuiApplication.instance()
    hints = QGuiApplication.styleHints()
    monkeypatch.setattr(type(hints), "colorScheme", lambda _self: Qt.ColorScheme.Light)
    try:
        theme.choose(app, "dark", 1.3)
        assert theme.color_scheme() == "dark"
        assert app.palette().color(QPalette.ColorRole.Window) == QColor(theme.DARK.window)
        assert theme.DARK.user_bubble in app.styleSheet()
        big = app.font().pointSizeF()
        theme.choose(app, "system", 1.0)
        assert theme.color_scheme() == "light"
        assert app.palette().color(QPalette.ColorRole.Window) == QColor(theme.LIGHT.window)
        assert app.font().pointSizeF() < big
    finally:
        theme.choose(app, "system", 1.0)
