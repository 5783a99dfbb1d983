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
    monkeypatch.setattr(type(QGuiApplication.instance()), "palette", staticmethod(lambda: dark))
    assert theme.color_scheme() == "dark"


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
