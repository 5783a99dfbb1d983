"""The conversation: messages stacked in a scroll area that follows a streaming reply unless
the person scrolled up to read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from desktop import theme
from desktop.widgets.message_widget import MessageWidget
from engine.storage import Message, Role
from engine.storage.types import Source

# Messages built at once when a conversation opens; the older ones follow (set_messages).
SHOWN_AT_ONCE = 2
# How close to the bottom (in pixels) still counts as "at the bottom".
FOLLOW_SLACK_PX = 4


class TranscriptView(QScrollArea):
    """Holds ``MessageWidget``s top to bottom. Re-emits their signals with the message id
    (``-1`` while a message has no id yet)."""

    link_activated = Signal(QUrl)
    copy_requested = Signal(int)
    regenerate_requested = Signal(int)
    edit_requested = Signal(int, str)
    continue_requested = Signal(int)
    save_again_requested = Signal(int)  # a reply shown but not saved (a full disk)
    branch_requested = Signal(int, int)  # message id, 0-based index of the sibling to show
    answer_now_requested = Signal()
    source_activated = Signal(object)  # a Source under a reply, clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Conversation")
        # A centred reading column, no wider than theme.READING_WIDTH at 100 % text size.
        self._container = QWidget()
        self._container.setObjectName("chatColumn")
        outer = QHBoxLayout(self._container)
        outer.setContentsMargins(0, 0, 0, 0)
        self._column = QWidget()
        self._column.setMaximumWidth(theme.em(self, theme.READING_WIDTH / 17))
        outer.addStretch(1)
        outer.addWidget(self._column, 100)
        outer.addStretch(1)
        self._layout = QVBoxLayout(self._column)
        spacing = theme.em(self, 0.5)
        self._layout.setContentsMargins(spacing, spacing, spacing, spacing)
        self._layout.setSpacing(spacing)
        self._layout.addStretch(1)  # messages sit at the top; the stretch takes the rest
        self.setWidget(self._container)
        self._messages: list[MessageWidget] = []
        self._following = True
        # Older messages of an opened conversation still to be built, oldest first.
        self._pending: list[tuple[Message, tuple[int, int], Sequence[Source]]] = []
        self._pending_timer = QTimer(self)
        self._pending_timer.setInterval(0)
        self._pending_timer.timeout.connect(self._on_pending_timer_timeout)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_scroll_bar_range_changed)
        bar.valueChanged.connect(self._on_scroll_bar_value_changed)

    # -- public API -----------------------------------------------------------------------------

    def clear(self) -> None:
        self._pending.clear()
        self._pending_timer.stop()
        for widget in self._messages:
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self._messages = []
        self._following = True

    def set_messages(
        self,
        messages: Iterable[Message],
        branches: Mapping[int, tuple[int, int]] | None = None,
        *,
        focus: int | None = None,
        sources: Mapping[int, Sequence[Source]] | None = None,
    ) -> None:
        """Show a conversation's active path. ``branches`` maps a message id to (0-based index
        among its siblings, their count) for messages that have siblings; ``sources`` a
        reply's id to the passages it was given.

        The newest messages (and ``focus``, with all after it) are built at once; older ones
        follow one per event-loop turn, above them, so opening a long conversation never
        holds the window up (rendering Markdown costs milliseconds a message)."""
        self.clear()
        path = list(messages)
        branch = dict(branches or {})
        given = dict(sources or {})
        first = max(0, len(path) - SHOWN_AT_ONCE)
        if focus is not None:
            first = min(first, next((i for i, m in enumerate(path) if m.id == focus), first))
        for m in path[first:]:
            self.add_widget(
                MessageWidget.from_message(
                    m, branch=branch.get(m.id, (0, 1)), sources=given.get(m.id, ())
                )
            )
        self._pending = [(m, branch.get(m.id, (0, 1)), given.get(m.id, ())) for m in path[:first]]
        if self._pending:
            self._pending_timer.start()
        self.scroll_to_bottom()

    def is_complete(self) -> bool:
        """Every message of the conversation is built (none waits to be shown above)."""
        return not self._pending

    def _on_pending_timer_timeout(self) -> None:
        if not self._pending:
            self._pending_timer.stop()
            return
        message, branch, sources = self._pending.pop()
        bar = self.verticalScrollBar()
        from_bottom = bar.maximum() - bar.value()
        widget = MessageWidget.from_message(message, branch=branch, sources=sources)
        self._messages.insert(0, widget)
        self._layout.insertWidget(0, widget)
        self._connect(widget)
        if not self._following:  # keep what the person reads where it is
            bar.setValue(bar.maximum() - from_bottom)
        if not self._pending:
            self._pending_timer.stop()

    def add_message(
        self, role: Role, text: str = "", *, message_id: int | None = None, streaming: bool = False
    ) -> MessageWidget:
        """Append a new message; ``streaming=True`` for a reply about to stream in."""
        widget = MessageWidget(
            role, text, message_id=message_id, status="streaming" if streaming else "done"
        )
        self.add_widget(widget)
        return widget

    def add_widget(self, widget: MessageWidget) -> MessageWidget:
        self._messages.append(widget)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._connect(widget)
        return widget

    def _connect(self, widget: MessageWidget) -> None:
        widget.link_activated.connect(self.link_activated)
        widget.answer_now_requested.connect(self.answer_now_requested)
        widget.source_activated.connect(self.source_activated)
        widget.copy_requested.connect(lambda: self.copy_requested.emit(_id(widget)))
        widget.regenerate_requested.connect(lambda: self.regenerate_requested.emit(_id(widget)))
        widget.continue_requested.connect(lambda: self.continue_requested.emit(_id(widget)))
        widget.save_again_requested.connect(lambda: self.save_again_requested.emit(_id(widget)))
        widget.edit_requested.connect(lambda text: self.edit_requested.emit(_id(widget), text))
        widget.branch_requested.connect(
            lambda index: self.branch_requested.emit(_id(widget), index)
        )

    def remove_from(self, message_id: int) -> None:
        """Drop the message ``message_id`` and everything after it (a new branch replaces
        them); the messages before it stay as they are, with their stats and switchers."""
        keep = next(
            (i for i, w in enumerate(self._messages) if w.message_id() == message_id),
            len(self._messages),
        )
        for widget in self._messages[keep:]:
            self._layout.removeWidget(widget)
            widget.deleteLater()
        del self._messages[keep:]

    def replace_message(self, message: Message, branch: tuple[int, int] = (0, 1)) -> None:
        """Show ``message`` as stored in place of the widget with its id (if still shown)."""
        old = self.message_widget(message.id)
        if old is None:
            return
        index = self._messages.index(old)
        widget = MessageWidget.from_message(message, branch=branch)
        self._layout.replaceWidget(old, widget)
        old.deleteLater()
        self._messages[index] = widget
        self._connect(widget)

    def messages(self) -> list[MessageWidget]:
        return list(self._messages)

    def message_widget(self, message_id: int) -> MessageWidget | None:
        return next((w for w in self._messages if w.message_id() == message_id), None)

    def last_message(self) -> MessageWidget | None:
        return self._messages[-1] if self._messages else None

    def is_following(self) -> bool:
        """True while the view keeps to the bottom as text arrives."""
        return self._following

    def scroll_to_bottom(self) -> None:
        self._following = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- slots ----------------------------------------------------------------------------------

    def _on_scroll_bar_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._following:
            self.verticalScrollBar().setValue(maximum)

    def _on_scroll_bar_value_changed(self, value: int) -> None:
        # Only a person moves the bar away from the bottom: growth keeps it there (above).
        self._following = value >= self.verticalScrollBar().maximum() - FOLLOW_SLACK_PX


def _id(widget: MessageWidget) -> int:
    message_id = widget.message_id()
    return -1 if message_id is None else message_id
