"""The collapsible "Thinking… 12.4 s" section above a reasoning model's answer."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme

# How often the elapsed seconds in the header are refreshed while thinking.
TICK_MS = 100


class ThinkingSectionWidget(QWidget):
    """Streams the model's thinking live with the seconds elapsed, collapses by itself when the
    answer starts ("Thought for 12.4 s") and opens again on a click. "Answer now" is offered
    only while thinking. ``clock`` returns seconds (monotonic); tests pass their own."""

    answer_now_requested = Signal()

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._started_at: float | None = None
        self._seconds: float | None = None
        self._thinking = False

        self.header_button = QToolButton()
        self.header_button.setCheckable(True)
        self.header_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header_button.setAutoRaise(True)
        self.header_button.setArrowType(Qt.ArrowType.RightArrow)
        self.header_button.toggled.connect(self._on_header_button_toggled)
        self.answer_now_button = QPushButton("Answer now")
        self.answer_now_button.setAccessibleName("Stop thinking and answer now")
        self.answer_now_button.setToolTip("Stop thinking and answer with what it has so far")
        self.answer_now_button.clicked.connect(self._on_answer_now_button_clicked)
        self.answer_now_button.hide()
        self.text_edit = QPlainTextEdit()
        self.text_edit.setReadOnly(True)
        self.text_edit.setAccessibleName("Thinking")
        self.text_edit.setMaximumHeight(theme.em(self, 12))
        self.text_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # As tall as the thinking, up to 12 lines of text, then it scrolls.
        self.text_edit.document().documentLayout().documentSizeChanged.connect(
            self._fit_text_height
        )
        self.text_edit.installEventFilter(self)  # a new width wraps it anew
        self.text_edit.hide()
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setObjectName("noticeLabel")  # styled as a notice
        self.note_label.hide()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.header_button)
        header.addStretch(1)
        header.addWidget(self.answer_now_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.text_edit)
        layout.addWidget(self.note_label)
        self._update_header()

    # -- public API -----------------------------------------------------------------------------

    def start(self) -> None:
        """Thinking began: open the section, count the seconds, offer "Answer now"."""
        self._thinking = True
        self._started_at = self._clock()
        self._seconds = None
        self.answer_now_button.setEnabled(True)
        self.answer_now_button.show()
        self.set_expanded(True)
        self._timer.start()
        self._update_header()

    def append(self, text: str) -> None:
        """Add streamed thinking (starts the section if it was not started)."""
        if not self._thinking and self._seconds is None:
            self.start()
        bar = self.text_edit.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        cursor = QTextCursor(self.text_edit.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_bottom:
            bar.setValue(bar.maximum())

    def finish(self, seconds: float | None = None) -> None:
        """Thinking ended (the answer started): collapse and say how long it took.
        ``seconds`` is the engine's own figure when known (``Stats.thinking_seconds``)."""
        if self._thinking:
            self._thinking = False
            self._timer.stop()
            self.answer_now_button.hide()
            self.set_expanded(False)
        if seconds is not None:
            self._seconds = seconds
        elif self._seconds is None and self._started_at is not None:
            self._seconds = self._clock() - self._started_at
        self._update_header()

    def set_thinking(self, text: str, seconds: float | None = None) -> None:
        """Show a finished message's thinking, collapsed."""
        self._timer.stop()
        self._thinking = False
        self._started_at = None
        self._seconds = seconds
        self.answer_now_button.hide()
        self.text_edit.setPlainText(text)
        self.set_expanded(False)
        self._update_header()

    def mark_budget_reached(self) -> None:
        self.note_label.setText("Thinking budget reached: the answer was started early.")
        self.note_label.show()

    def mark_answer_now(self) -> None:
        self.note_label.setText("You asked for the answer before thinking finished.")
        self.note_label.show()

    def text(self) -> str:
        return self.text_edit.toPlainText()

    def header_text(self) -> str:
        return self.header_button.text()

    def is_thinking(self) -> bool:
        return self._thinking

    def is_expanded(self) -> bool:
        return self.header_button.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.header_button.setChecked(expanded)

    def elapsed_seconds(self) -> float | None:
        if self._thinking and self._started_at is not None:
            return self._clock() - self._started_at
        return self._seconds

    # -- slots ----------------------------------------------------------------------------------

    def _fit_text_height(self) -> None:
        lines = self.text_edit.document().documentLayout().documentSize().height()
        margins = self.text_edit.contentsMargins()
        wanted = round(
            lines * self.text_edit.fontMetrics().lineSpacing()
            + 2 * self.text_edit.document().documentMargin()
            + margins.top()
            + margins.bottom()
        )
        self.text_edit.setFixedHeight(min(wanted, theme.em(self, 12)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.text_edit and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            QTimer.singleShot(0, self, self._fit_text_height)  # once the new width is laid out
        return super().eventFilter(watched, event)

    def _on_header_button_toggled(self, checked: bool) -> None:
        self.header_button.setArrowType(
            Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow
        )
        self.text_edit.setVisible(checked)
        self.header_button.setAccessibleName(
            f"{self.header_button.text()}, {'expanded' if checked else 'collapsed'}"
        )

    def _on_answer_now_button_clicked(self) -> None:
        self.answer_now_button.setEnabled(False)  # one request is enough
        self.answer_now_requested.emit()

    def _on_timer_timeout(self) -> None:
        self._update_header()

    def _update_header(self) -> None:
        seconds = self.elapsed_seconds()
        if self._thinking:
            text = f"Thinking… {seconds or 0.0:.1f} s"
        elif seconds is not None:
            text = f"Thought for {seconds:.1f} s"
        else:
            text = "Thoughts"
        self.header_button.setText(text)
        self.header_button.setAccessibleName(
            f"{text}, {'expanded' if self.is_expanded() else 'collapsed'}"
        )
