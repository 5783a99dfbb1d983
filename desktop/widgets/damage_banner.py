"""The strip above the conversation that says the history is damaged and read-only, with the
one thing to do about it: Recover…. Hidden while the history is whole."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desktop import theme


class DamageBannerWidget(QWidget):
    recover_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("damageBanner")
        self.message_label = QLabel()
        self.message_label.setObjectName("noticeLabel")
        self.message_label.setWordWrap(True)
        self.message_label.setAccessibleName("History damaged")
        self.recover_button = QPushButton("Recover…")
        self.recover_button.setAccessibleName("Recover the history")
        self.recover_button.setToolTip(
            "Copy every conversation that can still be read into a new file; the damaged "
            "file is kept aside, unchanged."
        )
        self.recover_button.clicked.connect(self.recover_requested)
        row = QHBoxLayout(self)
        m = theme.em(self, 0.5)
        row.setContentsMargins(m, m // 2, m, m // 2)
        row.addWidget(self.message_label, 1)
        row.addWidget(self.recover_button)
        self.hide()

    def show_damage(self, text: str) -> None:
        self.message_label.setText(text)
        self.recover_button.setEnabled(True)
        self.show()

    def set_busy(self, busy: bool) -> None:
        self.recover_button.setEnabled(not busy)
        self.recover_button.setText("Recovering…" if busy else "Recover…")
