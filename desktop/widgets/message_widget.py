"""One message of the transcript. The person's words sit in a bubble on the right, exactly as
typed; Hearth's reply runs the column's width under a small mark, with its thinking, its
rendered Markdown, a quiet stats line, and icon actions that show on hover (copy, edit,
regenerate, continue, ‹ n/m ›)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QEnterEvent, QFocusEvent, QGuiApplication, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
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
from desktop.widgets._buttons import icon_button
from desktop.widgets._stats import stats_line, stats_text
from desktop.widgets.markdown_view import MarkdownViewWidget
from desktop.widgets.sources_row import SourcesRowWidget
from desktop.widgets.thinking_section import ThinkingSectionWidget
from engine.inference import Notice, NoticeKind, Stats
from engine.storage import Message, MessageStats, Role, Status
from engine.storage.types import Source

ROLE_NAMES = {"user": "You", "assistant": "Hearth", "system": "System"}
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
CTRL = Qt.KeyboardModifier.ControlModifier
STATUS_NOTES = {"interrupted": "Stopped before the end.", "error": "This reply failed."}


WAITING = "Reading your message"
# How long a message found by search stays marked.
MARK_MS = 4000
# How often the waiting indicator's dots move.
WAITING_TICK_MS = 400


class MessageWidget(QFrame):
    """A message, fed with plain values: ``from_message(Message)`` for a stored one, or
    ``append_thinking`` / ``append_answer`` then ``finish`` while a reply streams.

    Signals carry no message id; ``TranscriptView`` adds it. ``copy_requested`` fires after
    the message's text is already on the clipboard (for a "Copied" notice).
    """

    link_activated = Signal(QUrl)
    copy_requested = Signal()
    regenerate_requested = Signal()
    edit_requested = Signal(str)
    continue_requested = Signal()
    branch_requested = Signal(int)
    answer_now_requested = Signal()
    source_activated = Signal(object)  # a Source of this reply, clicked
    save_again_requested = Signal()  # the reply could not be saved; the person asks again

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
        self.setObjectName("userMessage" if role == "user" else "assistantMessage")
        self._role: Role = role
        self._message_id = message_id
        self._status: Status = status
        self._branch = (0, 1)
        self._text = text  # the person's words, exactly as typed (user messages)
        self._hovered = False

        name = ROLE_NAMES.get(role, role)
        self.role_label = QLabel(name)
        self.role_label.setObjectName("sectionLabel")
        self.mark_label = QLabel()
        self.mark_label.setAccessibleName(name)
        self.status_label = QLabel()
        self.status_label.setObjectName("hintLabel")
        self.status_label.hide()
        self.previous_button = icon_button("chevron-left", "Previous version")
        self.branch_label = QLabel()
        self.branch_label.setObjectName("hintLabel")
        self.next_button = icon_button("chevron-right", "Next version")
        self.previous_button.clicked.connect(self._on_previous_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)

        # Built when a reply first thinks (most messages never do: building costs time).
        self._clock = clock
        self._thinking: ThinkingSectionWidget | None = None
        self.waiting_label = QLabel()
        self.waiting_label.setObjectName("hintLabel")
        self.waiting_label.setAccessibleName("Waiting for the first word")
        self.waiting_label.hide()
        self._waiting_dots = 0
        self._waiting_progress = ""
        self._activity = WAITING  # what the waiting indicator says is happening
        self.sources_row: SourcesRowWidget | None = None  # built for a reply with sources
        self._waiting_timer = QTimer(self)
        self._waiting_timer.setInterval(WAITING_TICK_MS)
        self._waiting_timer.timeout.connect(self._on_waiting_timer_timeout)

        self.markdown = MarkdownViewWidget()
        self.markdown.setAccessibleName(f"Message from {name}")
        self.markdown.link_activated.connect(self.link_activated)
        self.plain_label = QLabel()
        self.plain_label.setTextFormat(Qt.TextFormat.PlainText)  # exactly as typed
        self.plain_label.setWordWrap(True)
        self.plain_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plain_label.setAccessibleName(f"Message from {name}")
        if role == "user":
            self.body: QWidget = QFrame()
            self.body.setObjectName("userBubble")
            bubble = QVBoxLayout(self.body)
            pad = theme.em(self, 0.6)
            bubble.setContentsMargins(pad, round(pad * 0.7), pad, round(pad * 0.7))
            bubble.addWidget(self.plain_label)
            self.markdown.hide()
        else:
            self.body = self.markdown
        self.notes_label = QLabel()
        self.notes_label.setObjectName("noticeLabel")
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.stats_label = QLabel()
        self.stats_label.setObjectName("statsLabel")
        self.stats_label.setAccessibleName("Reply statistics")
        self.stats_label.hide()

        # The inline editor is built on the first Edit (only questions are edited).
        self.editor: QWidget | None = None

        self.copy_button = icon_button("copy", "Copy this message")
        self.edit_button = icon_button("edit", "Edit this message")
        self.regenerate_button = icon_button("regenerate", "Write this answer again")
        self.continue_button = icon_button("continue", "Continue this answer")
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.continue_button.clicked.connect(self.continue_requested)

        self.action_bar = QWidget()
        actions = QHBoxLayout(self.action_bar)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(theme.em(self, 0.1))
        if role == "user":
            actions.addStretch(1)
        for w in (
            self.previous_button,
            self.branch_label,
            self.next_button,
            self.copy_button,
            self.edit_button,
            self.regenerate_button,
            self.continue_button,
        ):
            actions.addWidget(w)
        if role != "user":
            actions.addStretch(1)
        # Shown on hover or focus; the space stays, so nothing jumps as the pointer moves.
        self._actions_effect = QGraphicsOpacityEffect(self.action_bar)
        self.action_bar.setGraphicsEffect(self._actions_effect)

        self._build_layout(role)
        self.restyle()
        self.set_text(text, final=status != "streaming")
        self.set_branch(0, 1)
        self.set_status(status)

    def _build_layout(self, role: Role) -> None:
        layout = QVBoxLayout(self)
        margin = theme.em(self, 0.3)
        layout.setContentsMargins(0, margin, 0, margin)
        layout.setSpacing(theme.em(self, 0.3))
        if role == "user":
            self.role_label.hide()  # the bubble's side says who wrote it
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(self.body, 0)
            self.body.setMaximumWidth(round(theme.READING_WIDTH * 0.8))
            layout.addLayout(row)
            layout.addWidget(self.status_label, 0, Qt.AlignmentFlag.AlignRight)
            layout.addWidget(self.action_bar)
            return
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.mark_label)
        header.addWidget(self.role_label)
        header.addWidget(self.status_label)
        header.addStretch(1)
        layout.addLayout(header)
        layout.addWidget(self.waiting_label)
        layout.addWidget(self.body)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.error_label)
        self._unsaved_row: QWidget | None = None  # made when a save fails
        self._layout = layout
        layout.addWidget(self.stats_label)
        layout.addWidget(self.action_bar)

    def restyle(self) -> None:
        """Draw the icons in the current scheme's colours."""
        size = theme.em(self, 1.1)
        t = theme.tokens()
        self.mark_label.setPixmap(theme.icon("hearth", t.accent).pixmap(size, size))
        for button in (
            self.previous_button,
            self.next_button,
            self.copy_button,
            self.edit_button,
            self.regenerate_button,
            self.continue_button,
        ):
            button.setIcon(theme.icon(button.property("iconName"), t.muted))
            button.setIconSize(QSize(size, size))

    @property
    def thinking_section(self) -> ThinkingSectionWidget:
        """The collapsible thinking above the answer (built on first use)."""
        if self._thinking is None:
            section = ThinkingSectionWidget(clock=self._clock)
            section.setObjectName("thinkingSection")
            section.answer_now_requested.connect(self.answer_now_requested)
            section.hide()
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(1, section)  # under the header, above the answer
            self._thinking = section
        return self._thinking

    def _has_thinking(self) -> bool:
        return self._thinking is not None and not self._thinking.isHidden()

    def _build_editor(self) -> QWidget:
        self.edit_box = QPlainTextEdit()
        self.edit_box.setAccessibleName("Edit your message")
        self.save_button = QPushButton("Save and send")
        self.save_button.setProperty("role", "primary")
        self.cancel_button = QPushButton("Cancel")
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.edit_box.installEventFilter(self)  # Ctrl+Enter saves, Esc cancels
        editor = QWidget()
        editor_layout = QVBoxLayout(editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(self.edit_box)
        editor_buttons = QHBoxLayout()
        editor_buttons.addStretch(1)
        editor_buttons.addWidget(self.cancel_button)
        editor_buttons.addWidget(self.save_button)
        editor_layout.addLayout(editor_buttons)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.status_label), editor)
        self.editor = editor
        return editor

    @classmethod
    def from_message(
        cls,
        message: Message,
        *,
        branch: tuple[int, int] = (0, 1),
        sources: Sequence[Source] = (),
        parent: QWidget | None = None,
    ) -> MessageWidget:
        """A stored message; ``branch`` is (0-based index among its siblings, their count),
        ``sources`` the passages a reply was given."""
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
        if sources:
            widget.set_sources(sources)
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
        """The message's source: the person's words as typed, or the reply's Markdown."""
        return self._text if self._role == "user" else self.markdown.markdown()

    def plain_text(self) -> str:
        """The text as a person reads it."""
        return self._text if self._role == "user" else self.markdown.plain_text()

    def set_text(self, text: str, *, final: bool = True) -> None:
        self._text = text
        if self._role == "user":
            self.plain_label.setText(text)
            self._fit_bubble()
        else:
            self.markdown.set_markdown(text, final=final)

    def set_stats(self, stats: Stats | MessageStats | None) -> None:
        tip = stats_text(stats)
        self.setToolTip(tip)
        self.role_label.setToolTip(tip)
        line = stats_line(stats) if self._role == "assistant" else ""
        self.stats_label.setText(line)
        self.stats_label.setToolTip(tip)
        self.stats_label.setVisible(bool(line) and self._status != "streaming")

    def set_sources(self, sources: Sequence[Source]) -> None:
        """The numbered passages this reply was given, as buttons under it (the cited ones
        emphasised once the reply is complete)."""
        if self.sources_row is None:
            self.sources_row = SourcesRowWidget()
            self.sources_row.source_activated.connect(self.source_activated)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(layout.indexOf(self.stats_label), self.sources_row)
        final = self._status != "streaming"
        self.sources_row.set_sources(sources, self.text() if final else "")

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
        self._update_actions()

    def branch_label_text(self) -> str:
        return self.branch_label.text() if self._branch[1] > 1 else ""

    def set_status(self, status: Status) -> None:
        self._status = status
        if status != "streaming":
            self.markdown.finish()
            self._stop_waiting()
            if self.sources_row is not None:
                self.sources_row.mark_cited(self.text())
        elif self._role == "assistant" and not self.text() and not self._has_thinking():
            self._start_waiting()
        note = STATUS_NOTES.get(status, "")
        self.status_label.setText(note)
        self.status_label.setVisible(bool(note))
        self._update_actions()

    def mark(self, ms: int = MARK_MS) -> None:
        """Show this is the message a search found (for ``ms`` milliseconds)."""
        self.setProperty("marked", True)
        self.style().unpolish(self)
        self.style().polish(self)
        QTimer.singleShot(ms, self, self._unmark)

    def is_marked(self) -> bool:
        return bool(self.property("marked"))

    def _unmark(self) -> None:
        self.setProperty("marked", False)
        self.style().unpolish(self)
        self.style().polish(self)

    def actions_shown(self) -> bool:
        """Whether the action icons can be seen now (hover, focus, or a version switcher)."""
        return self._actions_effect.opacity() > 0

    # -- streaming ------------------------------------------------------------------------------

    def set_prompt_progress(self, done: int, total: int) -> None:
        """While a long prompt is read: how far, shown beside the waiting indicator."""
        if total > 0 and not self.waiting_label.isHidden():
            self._waiting_progress = f" {100 * done // total} %"
            self._show_waiting()

    def append_thinking(self, text: str) -> None:
        self._stop_waiting()
        self.thinking_section.show()
        self.thinking_section.append(text)

    def append_answer(self, text: str) -> None:
        """Add streamed answer text; the first piece closes the thinking section."""
        self._stop_waiting()
        if self._thinking is not None and self._thinking.is_thinking():
            self._thinking.finish()
        self.markdown.append_markdown(text)

    def set_activity(self, text: str) -> None:
        """What happens before the first word (“Reading lease.pdf — page 3 of 20”)."""
        self._activity = text or WAITING
        if not self.waiting_label.isHidden():
            self._show_waiting()

    def add_notice(self, notice: Notice) -> None:
        if notice.kind is NoticeKind.BUDGET_REACHED:
            self.thinking_section.mark_budget_reached()
            return
        if notice.kind is NoticeKind.ANSWER_NOW:
            self.thinking_section.mark_answer_now()
            return
        self.add_note(notice.message)

    def add_note(self, text: str) -> None:
        """A line about this reply, above its error (an attached file that was not read)."""
        lines = [t for t in (self.notes_label.text(), text) if t]
        self.notes_label.setText("\n".join(lines))
        self.notes_label.show()

    def show_error(self, text: str) -> None:
        """What went wrong with this reply, in plain words, under its text."""
        lines = [t for t in (self.error_label.text(), text) if t]
        self.error_label.setText("\n".join(lines))
        self.error_label.show()

    def show_unsaved(self, text: str) -> None:
        """The reply is shown in full but could not be saved (a full disk): say so, with Save
        Again and Copy under it."""
        self.error_label.setText(text)
        self.error_label.show()
        if self._unsaved_row is None:
            row = QWidget()
            buttons = QHBoxLayout(row)
            buttons.setContentsMargins(0, 0, 0, 0)
            self.save_again_button = QPushButton("Save Again")
            self.save_again_button.setAccessibleName("Save this reply again")
            self.save_again_button.clicked.connect(self._on_save_again_button_clicked)
            self.copy_unsaved_button = QPushButton("Copy")
            self.copy_unsaved_button.setAccessibleName("Copy this reply")
            self.copy_unsaved_button.clicked.connect(self._on_copy_button_clicked)
            buttons.addWidget(self.save_again_button)
            buttons.addWidget(self.copy_unsaved_button)
            buttons.addStretch(1)
            self._layout.insertWidget(self._layout.indexOf(self.error_label) + 1, row)
            self._unsaved_row = row
        self.save_again_button.setEnabled(True)
        self._unsaved_row.show()

    def saved_again(self) -> None:
        """The reply is stored now: the notice goes."""
        self.error_label.clear()
        self.error_label.hide()
        if self._unsaved_row is not None:
            self._unsaved_row.hide()

    def _on_save_again_button_clicked(self) -> None:
        self.save_again_button.setEnabled(False)  # until the store answers
        self.save_again_requested.emit()

    def finish(self, status: Status, stats: Stats | MessageStats | None = None) -> None:
        """The reply ended (``done``, ``interrupted`` or ``error``)."""
        if self._has_thinking():
            seconds = stats.thinking_seconds if isinstance(stats, Stats) else None
            self.thinking_section.finish(seconds if seconds else None)
        self.set_status(status)
        self.set_stats(stats)

    def _start_waiting(self) -> None:
        self._waiting_dots, self._waiting_progress = 0, ""
        self._show_waiting()
        self.waiting_label.show()
        self._waiting_timer.start()

    def _stop_waiting(self) -> None:
        self._waiting_timer.stop()
        self.waiting_label.hide()

    def _show_waiting(self) -> None:
        dots = "." * (1 + self._waiting_dots % 3)
        self.waiting_label.setText(f"{self._activity}{dots}{self._waiting_progress}")

    def _on_waiting_timer_timeout(self) -> None:
        self._waiting_dots += 1
        self._show_waiting()

    # -- editing --------------------------------------------------------------------------------

    def begin_edit(self) -> None:
        editor = self.editor or self._build_editor()
        self.edit_box.setPlainText(self.text())
        self.body.hide()
        editor.show()
        self.edit_box.setFocus()
        self._update_actions()

    def is_editing(self) -> bool:
        return self.editor is not None and not self.editor.isHidden()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        editing = self.editor is not None and watched is self.edit_box
        if (
            editing
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.ShortcutOverride
            and (
                event.key() == Qt.Key.Key_Escape
                or (event.key() in _ENTER_KEYS and event.modifiers() & CTRL)
            )
        ):
            event.accept()  # the edit box's own keys, before the window's Esc shortcut
            return True
        if editing and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Escape:
                self._on_cancel_button_clicked()
                return True
            if event.key() in _ENTER_KEYS and event.modifiers() & CTRL:
                self._on_save_button_clicked()
                return True
        return super().eventFilter(watched, event)

    def _end_edit(self) -> None:
        if self.editor is not None:
            self.editor.hide()
        self.body.show()
        self._update_actions()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._role == "user":
            self._fit_bubble()

    def _fit_bubble(self) -> None:
        """The bubble as wide as its longest line, up to 80 % of the column (a word-wrapped
        label would otherwise shrink to a narrow strip)."""
        metrics = self.plain_label.fontMetrics()
        longest = max(
            (metrics.horizontalAdvance(line) for line in self._text.split("\n")), default=0
        )
        limit = max(theme.em(self, 6), round(self.width() * 0.8) - theme.em(self, 1.2))
        self.plain_label.setMinimumWidth(min(longest + 2, limit))

    # -- hover ----------------------------------------------------------------------------------

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hovered = True
        self._update_actions()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = False
        self._update_actions()
        super().leaveEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self._update_actions()
        super().focusInEvent(event)

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
        focus = any(b.hasFocus() for b in self.action_bar.findChildren(QToolButton))
        shown = final and (
            self._hovered or focus or self._branch[1] > 1 or self._status == "interrupted"
        )
        self._actions_effect.setOpacity(1.0 if shown else 0.0)
