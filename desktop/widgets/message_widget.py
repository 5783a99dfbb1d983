"""One message of the transcript: who said it, its thinking, its rendered Markdown, and what a
person can do with it (copy, regenerate, edit, continue, switch between versions)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QFont, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
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
from desktop.widgets.markdown_view import MarkdownViewWidget
from desktop.widgets.thinking_section import ThinkingSectionWidget
from engine.inference import Notice, NoticeKind, Stats
from engine.storage import Message, MessageStats, Role, Status

ROLE_NAMES = {"user": "You", "assistant": "Hearth", "system": "System"}
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
CTRL = Qt.KeyboardModifier.ControlModifier
STATUS_NOTES = {"interrupted": "Stopped before the end.", "error": "This reply failed."}


def stats_text(stats: Stats | MessageStats | None) -> str:
    """The tooltip of an answer: speed, time to first token, tokens used."""
    if stats is None:
        return ""
    parts = []
    if stats.tokens_per_second is not None:
        parts.append(f"{stats.tokens_per_second:.1f} tokens/s")
    if stats.time_to_first_token_s is not None:
        parts.append(f"first token after {stats.time_to_first_token_s:.2f} s")
    if stats.generated_tokens is not None:
        parts.append(f"{stats.generated_tokens} tokens generated")
    if stats.prompt_tokens is not None:
        parts.append(f"{stats.prompt_tokens} tokens of prompt")
    if isinstance(stats, Stats) and stats.thinking_tokens:
        parts.append(f"{stats.thinking_tokens} of them thinking")
    return " · ".join(parts)


class MessageWidget(QFrame):
    """A message, fed with plain values: ``from_message(Message)`` for a stored one, or
    ``append_thinking`` / ``append_answer`` then ``finish`` while a reply streams.

    Signals carry no message id; ``TranscriptView`` adds it. ``copy_requested`` fires after
    the message's Markdown is already on the clipboard (for a "Copied" notice);
    ``branch_requested`` carries the 0-based index of the sibling to show.
    """

    link_activated = Signal(QUrl)
    copy_requested = Signal()
    regenerate_requested = Signal()
    edit_requested = Signal(str)
    continue_requested = Signal()
    branch_requested = Signal(int)
    answer_now_requested = Signal()

    def __init__(
        self,
        role: Role,
        text: str = "",
        *,
        message_id: int | None = None,
        status: Status = "done",
        parent: QWidget | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._role: Role = role
        self._message_id = message_id
        self._status: Status = status
        self._branch = (0, 1)

        self.role_label = QLabel(ROLE_NAMES.get(role, role))
        bold = QFont(self.role_label.font())
        bold.setBold(True)
        self.role_label.setFont(bold)
        self.status_label = QLabel()
        self.status_label.hide()
        self.previous_button = _tool_button("‹", "Previous version")
        self.branch_label = QLabel()
        self.next_button = _tool_button("›", "Next version")
        self.previous_button.clicked.connect(self._on_previous_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)

        self.thinking_section = ThinkingSectionWidget(clock=clock)
        self.thinking_section.answer_now_requested.connect(self.answer_now_requested)
        self.thinking_section.hide()
        self.body = MarkdownViewWidget()
        self.body.setAccessibleName(f"Message from {ROLE_NAMES.get(role, role)}")
        self.body.link_activated.connect(self.link_activated)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()

        self.edit_box = QPlainTextEdit()
        self.edit_box.setAccessibleName("Edit your message")
        self.save_button = QPushButton("Save and send")
        self.cancel_button = QPushButton("Cancel")
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.edit_box.installEventFilter(self)  # Ctrl+Enter saves, Esc cancels
        self.editor = QWidget()
        editor_layout = QVBoxLayout(self.editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(self.edit_box)
        editor_buttons = QHBoxLayout()
        editor_buttons.addStretch(1)
        editor_buttons.addWidget(self.cancel_button)
        editor_buttons.addWidget(self.save_button)
        editor_layout.addLayout(editor_buttons)
        self.editor.hide()

        self.copy_button = _tool_button("Copy", "Copy this message")
        self.regenerate_button = _tool_button("Regenerate", "Write this answer again")
        self.edit_button = _tool_button("Edit", "Edit this message")
        self.continue_button = _tool_button("Continue", "Continue this answer")
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.continue_button.clicked.connect(self.continue_requested)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.role_label)
        header.addWidget(self.status_label)
        header.addStretch(1)
        for w in (self.previous_button, self.branch_label, self.next_button):
            header.addWidget(w)
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        for b in (self.copy_button, self.edit_button, self.regenerate_button, self.continue_button):
            actions.addWidget(b)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        margin = theme.em(self, 0.5)
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.setSpacing(theme.em(self, 0.3))
        layout.addLayout(header)
        layout.addWidget(self.thinking_section)
        layout.addWidget(self.body)
        layout.addWidget(self.editor)
        layout.addWidget(self.notes_label)
        layout.addLayout(actions)

        self.body.set_markdown(text, final=status != "streaming")
        self.set_branch(0, 1)
        self.set_status(status)

    @classmethod
    def from_message(
        cls, message: Message, *, branch: tuple[int, int] = (0, 1), parent: QWidget | None = None
    ) -> MessageWidget:
        """A stored message; ``branch`` is (0-based index among its siblings, their count)."""
        widget = cls(
            message.role,
            message.content,
            message_id=message.id,
            status=message.status,
            parent=parent,
        )
        if message.thinking:
            widget.thinking_section.set_thinking(message.thinking)
            widget.thinking_section.show()
        widget.set_stats(message.stats)
        widget.set_branch(*branch)
        return widget

    # -- what it shows --------------------------------------------------------------------------

    def role(self) -> Role:
        return self._role

    def message_id(self) -> int | None:
        return self._message_id

    def set_message_id(self, message_id: int | None) -> None:
        self._message_id = message_id

    def status(self) -> Status:
        return self._status

    def text(self) -> str:
        """The message's Markdown source."""
        return self.body.markdown()

    def plain_text(self) -> str:
        """The rendered text, as a person reads it."""
        return self.body.plain_text()

    def set_stats(self, stats: Stats | MessageStats | None) -> None:
        tip = stats_text(stats)
        self.setToolTip(tip)
        self.role_label.setToolTip(tip)

    def set_branch(self, index: int, count: int) -> None:
        """Show "‹ 2/3 ›" when the message has siblings (``index`` is 0-based)."""
        self._branch = (index, count)
        shown = count > 1
        for w in (self.previous_button, self.branch_label, self.next_button):
            w.setVisible(shown)
        self.branch_label.setText(f"{index + 1}/{count}")
        self.branch_label.setAccessibleName(f"Version {index + 1} of {count}")
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < count - 1)

    def branch_label_text(self) -> str:
        return self.branch_label.text() if self._branch[1] > 1 else ""

    def set_status(self, status: Status) -> None:
        self._status = status
        if status != "streaming":
            self.body.finish()
        note = STATUS_NOTES.get(status, "")
        self.status_label.setText(note)
        self.status_label.setVisible(bool(note))
        self._update_actions()

    # -- streaming ------------------------------------------------------------------------------

    def append_thinking(self, text: str) -> None:
        self.thinking_section.show()
        self.thinking_section.append(text)

    def append_answer(self, text: str) -> None:
        """Add streamed answer text; the first piece closes the thinking section."""
        if self.thinking_section.is_thinking():
            self.thinking_section.finish()
        self.body.append_markdown(text)

    def add_notice(self, notice: Notice) -> None:
        if notice.kind is NoticeKind.BUDGET_REACHED:
            self.thinking_section.mark_budget_reached()
            return
        if notice.kind is NoticeKind.ANSWER_NOW:
            self.thinking_section.mark_answer_now()
            return
        lines = [t for t in (self.notes_label.text(), notice.message) if t]
        self.notes_label.setText("\n".join(lines))
        self.notes_label.show()

    def finish(self, status: Status, stats: Stats | MessageStats | None = None) -> None:
        """The reply ended (``done``, ``interrupted`` or ``error``)."""
        if not self.thinking_section.isHidden():
            seconds = stats.thinking_seconds if isinstance(stats, Stats) else None
            self.thinking_section.finish(seconds if seconds else None)
        self.set_status(status)
        self.set_stats(stats)

    def show_error(self, text: str) -> None:
        """What went wrong with this reply, in plain words, under its text."""
        lines = [t for t in (self.notes_label.text(), text) if t]
        self.notes_label.setText("\n".join(lines))
        self.notes_label.show()

    # -- editing --------------------------------------------------------------------------------

    def begin_edit(self) -> None:
        self.edit_box.setPlainText(self.text())
        self.body.hide()
        self.editor.show()
        self.edit_box.setFocus()
        self._update_actions()

    def is_editing(self) -> bool:
        return not self.editor.isHidden()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.edit_box
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
        ):
            if event.key() == Qt.Key.Key_Escape:
                self._on_cancel_button_clicked()
                return True
            if event.key() in _ENTER_KEYS and event.modifiers() & CTRL:
                self._on_save_button_clicked()
                return True
        return super().eventFilter(watched, event)

    def _end_edit(self) -> None:
        self.editor.hide()
        self.body.show()
        self._update_actions()

    # -- slots ----------------------------------------------------------------------------------

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.copy_requested.emit()

    def _on_edit_button_clicked(self) -> None:
        self.begin_edit()

    def _on_save_button_clicked(self) -> None:
        new_text = self.edit_box.toPlainText().strip()
        self._end_edit()
        if new_text and new_text != self.text().strip():
            self.edit_requested.emit(new_text)

    def _on_cancel_button_clicked(self) -> None:
        self._end_edit()

    def _on_previous_button_clicked(self) -> None:
        self.branch_requested.emit(self._branch[0] - 1)

    def _on_next_button_clicked(self) -> None:
        self.branch_requested.emit(self._branch[0] + 1)

    def _update_actions(self) -> None:
        final = self._status != "streaming"
        assistant = self._role == "assistant"
        editing = self.is_editing()
        self.copy_button.setVisible(final and not editing)
        self.edit_button.setVisible(final and self._role == "user" and not editing)
        self.regenerate_button.setVisible(final and assistant)
        self.continue_button.setVisible(assistant and self._status == "interrupted")


def _tool_button(text: str, accessible_name: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setAccessibleName(accessible_name)
    button.setToolTip(accessible_name)
    button.setAutoRaise(True)
    return button
