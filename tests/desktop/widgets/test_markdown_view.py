"""The message body as a person sees it: formatted Markdown, highlighted code with a Copy
button, links that open nothing by themselves, a streaming append that re-renders little."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QImage,
    QTextCursor,
    QTextDocument,
)
from pytestqt.qtbot import QtBot

from desktop.widgets.markdown_view import CodeBlockWidget, MarkdownViewWidget

ANSWER = (
    "Use a **list comprehension**, see [the docs](https://docs.python.org/3/).\n\n"
    "```python\ndef squares(n):\n    return [i * i for i in range(n)]\n```\n\n"
    "It returns a new list.\n"
)


@pytest.fixture
def view(qtbot: QtBot) -> MarkdownViewWidget:
    w = MarkdownViewWidget()
    qtbot.addWidget(w)
    w.resize(600, 400)
    w.show()
    return w


def _fragments(doc: QTextDocument) -> list[tuple[str, object]]:
    out = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            out.append((fragment.text(), fragment.charFormat()))
            it += 1
        block = block.next()
    return out


def test_markdown_is_rendered_not_shown_as_source(view: MarkdownViewWidget):
    view.set_markdown(ANSWER)
    text = view.plain_text()
    assert text.startswith("Use a list comprehension, see the docs.")
    assert "**" not in text and "```" not in text
    assert "It returns a new list." in text
    prose = view.prose_blocks()[0].document()
    bold = [t for t, fmt in _fragments(prose) if fmt.fontWeight() == QFont.Weight.Bold]
    assert bold == ["list comprehension"]


def test_fenced_code_is_highlighted_with_coloured_spans(view: MarkdownViewWidget):
    view.set_markdown(ANSWER)
    [code] = view.code_blocks()
    assert code.language_label.text() == "python"
    assert code.code_edit.toPlainText() == "def squares(n):\n    return [i * i for i in range(n)]"
    colours = {
        t: fmt.foreground().color().name()
        for t, fmt in _fragments(code.code_edit.document())
        if t.strip()
    }
    assert colours["def"] != colours["(n):"]  # keyword vs punctuation
    assert colours["squares"] != colours["(n):"]  # function name
    assert len(set(colours.values())) >= 3


def test_copy_button_puts_exactly_the_code_on_the_clipboard(qtbot: QtBot, view: MarkdownViewWidget):
    view.set_markdown(ANSWER)
    [code] = view.code_blocks()
    QGuiApplication.clipboard().setText("something else")
    with qtbot.waitSignal(view.code_copied) as copied:
        qtbot.mouseClick(code.copy_button, Qt.MouseButton.LeftButton)
    expected = "def squares(n):\n    return [i * i for i in range(n)]"
    assert QGuiApplication.clipboard().text() == expected
    assert copied.args == [expected]
    assert code.copy_button.text() == "Copied"


def test_a_streamed_answer_ends_as_the_stored_one_renders(qtbot: QtBot, view: MarkdownViewWidget):
    stored = MarkdownViewWidget()
    qtbot.addWidget(stored)
    stored.set_markdown(ANSWER)
    for i in range(0, len(ANSWER), 7):
        view.append_markdown(ANSWER[i : i + 7])
    view.finish()
    assert view.plain_text() == stored.plain_text()
    assert view.markdown() == ANSWER
    [code] = view.code_blocks()
    [stored_code] = stored.code_blocks()
    assert [
        (t, f.foreground().color().name()) for t, f in _fragments(code.code_edit.document())
    ] == [
        (t, f.foreground().color().name()) for t, f in _fragments(stored_code.code_edit.document())
    ]


def test_while_streaming_only_the_last_block_is_rendered_again(view: MarkdownViewWidget):
    view.append_markdown(ANSWER)
    first = view.prose_blocks()[0]
    changes: list[int] = []
    first.document().contentsChanged.connect(lambda: changes.append(1))
    for _ in range(20):
        view.append_markdown("More words in the last paragraph. ")
    assert changes == []
    assert view.plain_text().endswith("More words in the last paragraph.")


def test_a_code_block_shows_its_lines_as_they_stream(view: MarkdownViewWidget):
    view.append_markdown("```sh\necho one\necho tw")
    [code] = view.code_blocks()
    assert code.code_edit.toPlainText() == "echo one\necho tw"
    view.append_markdown("o\n")
    assert code.code_edit.toPlainText() == "echo one\necho two"
    view.append_markdown("```\nafter\n")
    view.finish()
    assert code.code() == "echo one\necho two"
    assert view.plain_text().endswith("after")


def test_clicking_a_link_emits_it_and_opens_nothing(
    qtbot: QtBot, view: MarkdownViewWidget, monkeypatch: pytest.MonkeyPatch
):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    view.set_markdown(ANSWER)
    prose = view.prose_blocks()[0]
    qtbot.waitUntil(prose.isVisible)  # a child added to a shown parent is shown by an event
    at = prose.document().find("the docs")
    cursor = QTextCursor(prose.document())
    cursor.setPosition(at.selectionStart() + 3)
    point = prose.cursorRect(cursor).center()
    with qtbot.waitSignal(view.link_activated) as activated:
        qtbot.mouseClick(prose.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert activated.args[0] == QUrl("https://docs.python.org/3/")
    assert opened == []
    assert prose.source().isEmpty()  # the browser did not navigate either


def test_no_image_is_loaded_from_disk(qtbot: QtBot, view: MarkdownViewWidget, tmp_path):
    image = tmp_path / "secret.png"
    red = QImage(64, 64, QImage.Format.Format_RGB32)
    red.fill(QColor(255, 0, 0))
    assert red.save(str(image))
    url = QUrl.fromLocalFile(str(image))
    view.set_markdown(f"Before ![secret]({url.toString()}) after\n")
    prose = view.prose_blocks()[0]
    qtbot.waitUntil(prose.isVisible)
    # What the view shows: laying the text out asks the document for the image.
    shot = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = memoryview(shot.constBits()).cast("I")
    assert 0xFFFF0000 not in pixels, "the file's red pixels were drawn"
    assert prose.height() < 64  # no room was made for a 64-pixel image either


def test_raw_html_in_an_answer_is_shown_as_text(view: MarkdownViewWidget):
    view.set_markdown("Wrap it in <b>bold</b> tags.\n")
    assert view.plain_text() == "Wrap it in <b>bold</b> tags."


def test_an_unknown_language_is_shown_plain_with_its_name(qtbot: QtBot):
    code = CodeBlockWidget("no-such-language")
    qtbot.addWidget(code)
    code.set_code("x = 1")
    assert code.language_label.text() == "no-such-language"
    assert code.code_edit.toPlainText() == "x = 1"
