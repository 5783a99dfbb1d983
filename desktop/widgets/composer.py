"""Where the person writes: Enter sends, Shift+Enter starts a new line, Esc stops a reply."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop import theme

MIN_LINES = 2
MAX_LINES = 8
# From this share of the context on, the token count is shown as a warning.
WARN_AT = 0.9


class _ComposerEdit(QPlainTextEdit):
    """The text box. Keys are handled here, not with window shortcuts, so they work exactly
    when the box has focus."""

    submitted = Signal()
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.submitted.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class ComposerWidget(QWidget):
    """A multi-line box with Send and Stop, and the context use ("N / M tokens") that the
    window sets. It stays editable while a model loads or a reply streams; only sending waits
    (``set_busy``)."""

    send_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self.text_edit = _ComposerEdit()
        self.text_edit.setPlaceholderText("Ask anything. Nothing leaves this computer.")
        self.text_edit.setAccessibleName("Message")
        self.text_edit.setAccessibleDescription(
            "Enter sends, Shift+Enter starts a new line, Escape stops the reply"
        )
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.send_button = QPushButton("Send")
        self.send_button.setAccessibleName("Send message")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAccessibleName("Stop the reply")
        self.stop_button.setEnabled(False)
        self.token_label = QLabel()
        self.token_label.setAccessibleName("Context used")
        self.token_label.hide()

        self.text_edit.submitted.connect(self._on_text_edit_submitted)
        self.text_edit.escaped.connect(self.stop_requested)
        self.text_edit.textChanged.connect(self._on_text_edit_text_changed)
        self.send_button.clicked.connect(self._on_send_button_clicked)
        self.stop_button.clicked.connect(self.stop_requested)

        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text_edit, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.token_label, 0, Qt.AlignmentFlag.AlignRight)
        self._fit_height()

    # -- public API -----------------------------------------------------------------------------

    def text(self) -> str:
        return self.text_edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.text_edit.setPlainText(text)

    def clear(self) -> None:
        self.text_edit.clear()

    def focus_input(self) -> None:
        self.text_edit.setFocus()

    def is_busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool) -> None:
        """While a reply streams: Stop is offered and Enter keeps the text instead of sending."""
        self._busy = busy
        self.stop_button.setEnabled(busy)
        self._update_send_button()

    def set_token_usage(self, used: int, limit: int) -> None:
        """Show how much of the model's context the conversation uses."""
        self.token_label.setText(f"{used:,} / {limit:,} tokens")
        self.token_label.setToolTip(
            "How much of the model's context this conversation uses. Older messages are left "
            "out when it is full."
        )
        near_full = limit > 0 and used >= WARN_AT * limit
        self.token_label.setProperty("nearFull", near_full)
        palette = self.palette()
        if near_full:
            palette.setColor(QPalette.ColorRole.WindowText, theme.warning_color())
        self.token_label.setPalette(palette)
        self.token_label.show()

    # -- slots ----------------------------------------------------------------------------------

    def _on_text_edit_submitted(self) -> None:
        self._send()

    def _on_send_button_clicked(self) -> None:
        self._send()

    def _on_text_edit_text_changed(self) -> None:
        self._update_send_button()
        self._fit_height()

    def _send(self) -> None:
        text = self.text().strip()
        if not text or self._busy:
            return
        self.text_edit.clear()
        self.send_requested.emit(text)

    def _update_send_button(self) -> None:
        self.send_button.setEnabled(not self._busy and bool(self.text().strip()))

    def _fit_height(self) -> None:
        """Grow with the text from two to eight lines, then scroll."""
        lines = max(MIN_LINES, min(MAX_LINES, self.text_edit.document().lineCount()))
        line = self.text_edit.fontMetrics().lineSpacing()
        margins = self.text_edit.contentsMargins()
        height = (
            math.ceil(lines * line + 2 * self.text_edit.document().documentMargin())
            + margins.top()
            + margins.bottom()
        )
        if height != self.text_edit.height():
            self.text_edit.setFixedHeight(max(height, theme.em(self, MIN_LINES)))
