"""Where the person writes: Enter sends, Shift+Enter starts a new line, Esc stops a reply, Up in
an empty box edits the last message. Files are attached with the attach button or dropped on
the box, and shown as chips above it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.widgets.attachment_chips import MAX_ATTACHMENTS, AttachmentChipsWidget

MIN_LINES = 1
MAX_LINES = 10
# The token count is asked for once typing pauses this long.
DRAFT_PAUSE_MS = 300
# From this share of the context on, the token count is shown as a warning.
WARN_AT = 0.9
FOLDER_REFUSED = (
    "A folder cannot be attached to a message: add it to a library instead (Library, Ctrl+D)."
)


def dropped_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders in a drag (links to web pages are not files)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class _ComposerEdit(QPlainTextEdit):
    """The text box. Keys are handled here, not with window shortcuts, so they work exactly
    when the box has focus."""

    submitted = Signal()
    escaped = Signal()
    up_at_start = Signal()  # Up with the cursor on the first line
    files_dropped = Signal(object)  # list[Path]: files dropped here attach, not paste a path

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(dropped_paths(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        paths = dropped_paths(source)
        if paths:
            self.files_dropped.emit(paths)
        else:
            super().insertFromMimeData(source)

    def event(self, event: QEvent) -> bool:
        # Ctrl+Z with nothing to undo here is the window's (undo a deleted conversation).
        if (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.ShortcutOverride
            and event.matches(QKeySequence.StandardKey.Undo)
            and not self.document().isUndoAvailable()
        ):
            event.ignore()
            return False
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Up and not event.modifiers() and not self.toPlainText():
            self.up_at_start.emit()
            return
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
    """A rounded box that grows with its text; Send (disabled while empty) turns into Stop
    while a reply streams; an attach button; and the context use ("N / M tokens") that the
    window keeps current as the person types. It stays editable while a model loads or a
    reply streams; only sending waits (``set_busy``). ``send_requested`` carries the text and
    the attached files, which then leave the box with it."""

    send_requested = Signal(str, object)  # text, tuple[Path, ...] of attached files
    attach_refused = Signal(str)  # why something dropped was not attached
    stop_requested = Signal()
    draft_changed = Signal(str)  # the text, once typing pauses (for the live token count)
    attach_requested = Signal()
    history_requested = Signal()  # Up in an empty box: edit the last message

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
        self.send_button = _round_button("send", "Send message", primary=True)
        self.stop_button = _round_button("stop", "Stop the reply", primary=True)
        self.stop_button.setEnabled(False)
        self.stop_button.hide()
        self.attach_button = _round_button("attach", "Attach files")
        self.attach_button.setToolTip(
            "Attach files to this question (or drop them here). They are read on this "
            "computer and kept, encrypted, with the conversation."
        )
        self.chips = AttachmentChipsWidget()
        self.setAcceptDrops(True)
        self.token_label = QLabel()
        self.token_label.setObjectName("tokenLabel")
        self.token_label.setAccessibleName("Context used")
        self.token_label.hide()
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_PAUSE_MS)
        self._draft_timer.timeout.connect(self._on_draft_timer_timeout)

        self.text_edit.submitted.connect(self._on_text_edit_submitted)
        self.text_edit.escaped.connect(self.stop_requested)
        self.text_edit.up_at_start.connect(self._on_text_edit_up_at_start)
        self.text_edit.textChanged.connect(self._on_text_edit_text_changed)
        self.send_button.clicked.connect(self._on_send_button_clicked)
        self.stop_button.clicked.connect(self.stop_requested)
        self.attach_button.clicked.connect(self.attach_requested)
        self.text_edit.files_dropped.connect(self.attach)

        self.frame = QFrame()
        self.frame.setObjectName("composerFrame")
        self.frame.setMaximumWidth(theme.em(self, theme.READING_WIDTH / 17))
        inner = QVBoxLayout(self.frame)
        pad = theme.em(self, 0.4)
        inner.setContentsMargins(pad, pad, pad, pad)
        inner.setSpacing(0)
        inner.addWidget(self.chips)
        inner.addWidget(self.text_edit)
        self._tools = row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.attach_button)
        row.addStretch(1)
        row.addWidget(self.token_label)
        row.addWidget(self.send_button)
        row.addWidget(self.stop_button)
        inner.addLayout(row)
        layout = QHBoxLayout(self)
        margin = theme.em(self, 0.6)
        layout.setContentsMargins(margin, 0, margin, margin)
        layout.addStretch(1)
        layout.addWidget(self.frame, 100)
        layout.addStretch(1)
        self.restyle()
        self._update_send_button()
        self._fit_height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()  # the wrapped text may take more or fewer lines now

    def restyle(self) -> None:
        """Draw the icons in the current scheme's colours."""
        t = theme.tokens()
        size = theme.em(self, 1.0)
        for button, color in (
            (self.send_button, t.on_accent),
            (self.stop_button, t.on_accent),
            (self.attach_button, t.muted),
        ):
            button.setIcon(theme.icon(button.property("iconName"), color))
            button.setIconSize(QSize(size, size))
            side = theme.em(self, 1.8)
            button.setFixedSize(side, side)
        self.chips.restyle()

    def add_tool(self, widget: QWidget) -> None:
        """A control beside the attach button (the library picker)."""
        self._tools.insertWidget(1, widget)

    # -- public API -----------------------------------------------------------------------------

    def text(self) -> str:
        return self.text_edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.text_edit.setPlainText(text)

    def clear(self) -> None:
        self.text_edit.clear()

    def attachments(self) -> list[Path]:
        return self.chips.paths()

    def attach(self, paths: Iterable[Path]) -> None:
        """Attach these files to the question being written; a folder is refused (with
        ``attach_refused``), as are files beyond MAX_ATTACHMENTS."""
        paths = list(paths)
        files = [p for p in paths if not p.is_dir()]
        if len(files) < len(paths):
            self.attach_refused.emit(FOLDER_REFUSED)
        added = self.chips.add(files)
        if len(added) < len(files) and len(self.chips.paths()) >= MAX_ATTACHMENTS:
            self.attach_refused.emit(f"A question takes up to {MAX_ATTACHMENTS} files.")
        self.focus_input()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.attach(paths)

    def focus_input(self) -> None:
        self.text_edit.setFocus()

    def is_busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool) -> None:
        """While a reply streams: Send turns into Stop, and Enter keeps the text."""
        self._busy = busy
        self.stop_button.setEnabled(busy)
        self.stop_button.setVisible(busy)
        self.send_button.setVisible(not busy)
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
        self._draft_timer.start()

    def _on_draft_timer_timeout(self) -> None:
        self.draft_changed.emit(self.text())

    def _on_text_edit_up_at_start(self) -> None:
        if not self.text():
            self.history_requested.emit()

    def _send(self) -> None:
        text = self.text().strip()
        if not text or self._busy:
            return
        files = tuple(self.chips.paths())
        self.text_edit.clear()
        self.chips.clear()
        self.send_requested.emit(text, files)

    def _update_send_button(self) -> None:
        self.send_button.setEnabled(not self._busy and bool(self.text().strip()))

    def _fit_height(self) -> None:
        """Grow with the text (wrapped lines count) up to MAX_LINES, then scroll."""
        # QPlainTextEdit's document layout measures its height in lines.
        shown = math.ceil(self.text_edit.document().documentLayout().documentSize().height())
        lines = max(MIN_LINES, min(MAX_LINES, shown))
        line = self.text_edit.fontMetrics().lineSpacing()
        margins = self.text_edit.contentsMargins()
        height = (
            math.ceil(lines * line + 2 * self.text_edit.document().documentMargin())
            + margins.top()
            + margins.bottom()
        )
        if height != self.text_edit.height():
            self.text_edit.setFixedHeight(max(height, theme.em(self, MIN_LINES)))
        self.text_edit.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded
            if shown > MAX_LINES
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )


def _round_button(icon_name: str, accessible_name: str, *, primary: bool = False) -> QPushButton:
    button = QPushButton()
    button.setProperty("iconName", icon_name)
    button.setProperty("role", "primary" if primary else "icon")
    button.setAccessibleName(accessible_name)
    button.setToolTip(accessible_name)
    return button
