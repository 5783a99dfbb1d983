"""The icon button every toolbar and message uses: one of Hearth's icons (drawn by the owner
with ``theme.icon(button.property("iconName"), …)``), a name a screen reader says, a tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QToolButton


def icon_button(icon_name: str, accessible_name: str, tip: str = "") -> QToolButton:
    button = QToolButton()
    button.setProperty("iconName", icon_name)
    button.setAccessibleName(accessible_name)
    button.setToolTip(tip or accessible_name)
    button.setAutoRaise(True)
    return button
