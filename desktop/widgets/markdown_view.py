"""A message body: Markdown rendered by Qt, fenced code highlighted by Pygments with a Copy
button per block, and a streaming append whose cost stays bounded.

Only the last, still-open block is rendered again when text arrives (see ``_blocks``). Links
are never followed: a click emits ``link_activated`` and the window decides. Nothing is loaded
for an image either: a model's ``![](file:///…)`` shows no file from this computer.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Text, _TokenType
from pygments.util import ClassNotFound
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QImage,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextOption,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.widgets._blocks import Block, keep_lines, no_images, split_blocks

_ALWAYS_OFF = Qt.ScrollBarPolicy.ScrollBarAlwaysOff
_MARKDOWN = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)


class _FittedMixin:
    """Keeps a text edit exactly as tall as its document, so the transcript scrolls, not it."""

    def _fit_height(self: Any) -> None:
        doc = self.document()
        height = math.ceil(doc.size().height()) + 2 * self.frameWidth()
        if doc.size().width() > self.viewport().width() + 1:  # code wider than the view
            height += self.horizontalScrollBar().sizeHint().height()
        if height != self.height():
            self.setFixedHeight(height)


class _ProseBrowser(_FittedMixin, QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(_ALWAYS_OFF)
        self.setHorizontalScrollBarPolicy(_ALWAYS_OFF)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.setFixedHeight(self.fontMetrics().height() + 4)

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        # No images from disk or anywhere else: a reply cannot open files. Not None: on a null
        # answer QTextDocument::loadResource reads a local file itself (Qt 6), so give it an
        # empty image, which it takes as loaded and draws as nothing.
        return QImage()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()


class _CodeEdit(_FittedMixin, QTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QTextEdit.LineWrapMode.NoWrap)
        self.setWordWrapMode(QTextOption.WrapMode.NoWrap)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(_ALWAYS_OFF)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.document().setDocumentMargin(6)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()


@cache
def _formats(style_name: str) -> tuple[dict[_TokenType, QTextCharFormat], QColor]:
    """Character formats per token type for a Pygments style, and its background. Built once
    per style; every format carries a colour, so nothing inherits the palette's text colour.
    Formats replace inline HTML styles: no CSS, nothing external."""
    style = get_style_by_name(style_name)
    background = QColor(style.background_color or "#ffffff")
    text = style.style_for_token(Text)["color"]
    default = (
        QColor("#" + text)
        if text
        else QColor("#f8f8f2" if background.lightnessF() < 0.5 else "#000000")
    )
    formats: dict[_TokenType, QTextCharFormat] = {}
    for token, spec in style:
        fmt = QTextCharFormat()
        fmt.setForeground(QColor("#" + spec["color"]) if spec["color"] else default)
        if spec["bgcolor"]:
            fmt.setBackground(QColor("#" + spec["bgcolor"]))
        if spec["bold"]:
            fmt.setFontWeight(QFont.Weight.Bold)
        if spec["italic"]:
            fmt.setFontItalic(True)
        if spec["underline"]:
            fmt.setFontUnderline(True)
        formats[token] = fmt
    return formats, background


def _format_for(formats: dict[_TokenType, QTextCharFormat], token: _TokenType) -> QTextCharFormat:
    kind: _TokenType | None = token
    while kind is not None:  # a lexer's own subtype falls back to its parent: Name.X → Name
        if kind in formats:
            fmt = formats[kind]
            formats[token] = fmt
            return fmt
        kind = kind.parent
    return formats[Text]


def _lexer(language: str) -> Lexer:
    try:
        return (
            get_lexer_by_name(language, stripnl=False, ensurenl=False)
            if language
            else TextLexer(stripnl=False, ensurenl=False)
        )
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


class CodeBlockWidget(QFrame):
    """One fenced code block: a header with its language and a Copy button, then the code,
    highlighted. While the block streams, only new complete lines are highlighted (each batch
    lexed on its own); once it closes, the whole block is highlighted again in one pass, so a
    multi-line string that confused the partial pass ends up right."""

    copied = Signal(str)

    def __init__(self, language: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._language = language
        self._code = ""
        self._closed = False
        self._done_upto = 0  # characters of complete, highlighted lines in the document
        self._tail = 0  # characters of the unfinished last line, inserted plain
        self._lexer = _lexer(language)
        self._formats, background = _formats(theme.code_style_name())
        self._plain = self._formats[Text]

        self.language_label = QLabel(language or "code")
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setAccessibleName(f"Copy {language or 'code'} block")
        self.copy_button.setToolTip("Copy this code to the clipboard")
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.code_edit = _CodeEdit()
        self.code_edit.setAccessibleName(f"{language or 'Code'} code")
        palette = self.code_edit.palette()
        palette.setColor(QPalette.ColorRole.Base, background)
        palette.setColor(QPalette.ColorRole.Text, self._plain.foreground().color())
        self.code_edit.setPalette(palette)
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(1500)
        self._copied_timer.timeout.connect(self._on_copied_timer_timeout)

        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 2, 2)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.code_edit)

    def language(self) -> str:
        return self._language

    def code(self) -> str:
        return self._code

    def set_code(self, code: str, *, closed: bool = True) -> None:
        code = code.replace("\r\n", "\n")
        if code == self._code and closed == self._closed:
            return
        if closed or not code.startswith(self._code[: self._done_upto]) or self._closed:
            self._code, self._closed = code, closed
            self._render_all()
            return
        self._code = code
        self._append_lines()

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self._code)
        self.copy_button.setText("Copied")
        self._copied_timer.start()
        self.copied.emit(self._code)

    def _on_copy_button_clicked(self) -> None:
        self.copy_to_clipboard()

    def _on_copied_timer_timeout(self) -> None:
        self.copy_button.setText("Copy")

    def _render_all(self) -> None:
        doc = self.code_edit.document()
        doc.clear()
        cursor = QTextCursor(doc)
        self._insert_tokens(cursor, self._code)
        self._done_upto, self._tail = len(self._code), 0

    def _append_lines(self) -> None:
        cursor = QTextCursor(self.code_edit.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if self._tail:
            cursor.movePosition(
                QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, self._tail
            )
            cursor.removeSelectedText()
        complete_end = self._code.rfind("\n") + 1
        if complete_end > self._done_upto:
            self._insert_tokens(cursor, self._code[self._done_upto : complete_end])
            self._done_upto = complete_end
        tail = self._code[self._done_upto :]
        cursor.insertText(tail, self._plain)
        self._tail = len(tail)

    def _insert_tokens(self, cursor: QTextCursor, code: str) -> None:
        cursor.beginEditBlock()
        for token, value in self._lexer.get_tokens(code):
            cursor.insertText(value, _format_for(self._formats, token))
        cursor.endEditBlock()


class ProseBlockWidget(_ProseBrowser):
    """Markdown prose, rendered by Qt's own importer (md4c, GitHub dialect, raw HTML shown as
    text)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setAccessibleName("Text")  # the screen reader reads the content after the name

    def set_markdown(self, text: str) -> None:
        self.document().setMarkdown(keep_lines(no_images(text)), _MARKDOWN)


class MarkdownViewWidget(QWidget):
    """A whole message body. ``append_markdown`` while streaming, ``finish`` at the end;
    ``set_markdown`` renders a stored message in one go (same blocks as streaming gives)."""

    link_activated = Signal(QUrl)
    code_copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = ""
        self._final = True
        self._frozen_offset = 0  # source before this offset is in closed blocks
        self._frozen_count = 0  # widgets showing closed blocks
        self._blocks: list[QWidget] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(theme.em(self, 0.4))

    # -- public API -----------------------------------------------------------------------------

    def markdown(self) -> str:
        return self._source

    def set_markdown(self, text: str, *, final: bool = True) -> None:
        for widget in self._blocks:
            widget.deleteLater()
            self._layout.removeWidget(widget)
        self._blocks = []
        self._source, self._final = text, final
        self._frozen_offset = self._frozen_count = 0
        self._render()

    def append_markdown(self, text: str) -> None:
        """Add streamed text. Renders at once: the caller batches (≤ 30 calls a second)."""
        if not text:
            return
        self._source += text
        self._final = False
        self._render()

    def finish(self) -> None:
        """No more text will come: render the open tail as complete."""
        if not self._final:
            self._final = True
            self._render()

    def plain_text(self) -> str:
        """What a person reads, block by block."""
        parts = [
            w.toPlainText() if isinstance(w, ProseBlockWidget) else w.code()
            for w in self._blocks
            if isinstance(w, ProseBlockWidget | CodeBlockWidget)
        ]
        return "\n".join(p.rstrip("\n") for p in parts)

    def code_blocks(self) -> list[CodeBlockWidget]:
        return [w for w in self._blocks if isinstance(w, CodeBlockWidget)]

    def prose_blocks(self) -> list[ProseBlockWidget]:
        return [w for w in self._blocks if isinstance(w, ProseBlockWidget)]

    def block_count(self) -> int:
        return len(self._blocks)

    # -- rendering ------------------------------------------------------------------------------

    def _render(self) -> None:
        tail = self._source[self._frozen_offset :]
        index = self._frozen_count
        offset = self._frozen_offset
        for block in split_blocks(tail, final=self._final):
            blank = block.kind == "prose" and not block.text.strip()
            if not blank:
                self._show(index, block)
                index += 1
            if block.closed and index - (0 if blank else 1) == self._frozen_count:
                self._frozen_count = index
                self._frozen_offset = offset + block.end
        for widget in self._blocks[index:]:  # only after set_markdown shrinks the text
            self._layout.removeWidget(widget)
            widget.deleteLater()
        del self._blocks[index:]

    def _show(self, index: int, block: Block) -> None:
        if index < len(self._blocks):
            widget = self._blocks[index]
        else:
            widget = self._new_block(block)
            self._blocks.append(widget)
            self._layout.addWidget(widget)
        if isinstance(widget, CodeBlockWidget):
            widget.set_code(block.text, closed=block.closed)
        elif isinstance(widget, ProseBlockWidget):
            widget.set_markdown(block.text)

    def _new_block(self, block: Block) -> QWidget:
        if block.kind == "code":
            code = CodeBlockWidget(block.language)
            code.copied.connect(self.code_copied)
            return code
        prose = ProseBlockWidget()
        prose.anchorClicked.connect(self.link_activated)
        return prose
