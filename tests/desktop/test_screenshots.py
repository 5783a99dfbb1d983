"""Screenshots for the README, taken from the real window on a real X server (Xvfb): light
and dark, a narrow window, a code answer, a reasoning answer with its thinking expanded, the
first run, the Models dialog, the lock screen, a reply with its sources and the Library.

Run by ``scripts/screenshots.sh`` (xvfb-run, QT_QPA_PLATFORM=xcb, HEARTH_SCREENSHOTS=<folder>);
skipped otherwise, e.g. in the normal offscreen test run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop import theme
from desktop.main_window import MainWindow
from engine.catalog import Reasoning, load_catalog
from engine.chat_template import CHATML
from engine.inference import ChatMessage, GenerationOptions, open_model
from engine.storage import ConversationStore, MessageStats, StoreOwner
from tests._files import write_docx, write_pdf, write_scanned_pdf
from tests.desktop.window_helpers import LOAD_MS, _window, ask

OUT = os.environ.get("HEARTH_SCREENSHOTS", "")
# As in tests/engine/inference/test_thinking.py: a template that opens the think block, so the
# starter model (not a reasoning model) thinks until a small budget closes the block.
OPENS_THINK = CHATML.replace("'<|im_start|>assistant\\n'", "'<|im_start|>assistant\\n<think>\\n'")

pytestmark = pytest.mark.skipif(
    not OUT or not os.environ.get("DISPLAY"),
    reason="screenshots need an X server: run scripts/screenshots.sh",
)


@pytest.fixture(autouse=True)
def on_x() -> None:
    if QGuiApplication.platformName() != "xcb":
        pytest.skip("screenshots need the xcb platform (QT_QPA_PLATFORM=xcb)")


def _scheme(scheme: Qt.ColorScheme) -> None:
    """Do what the app does when the OS reports ``scheme`` (Xvfb has no desktop to report
    one, so the call that desktop.theme.follow_os makes on a change is made here)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    theme.apply_scheme(app, scheme)
    QApplication.processEvents()
    want_dark = scheme == Qt.ColorScheme.Dark
    assert (theme.color_scheme() == "dark") == want_dark


def _save(qtbot: QtBot, window: MainWindow, name: str) -> Path:
    qtbot.wait(300)  # let the last repaint land
    path = Path(OUT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(path))
    assert path.stat().st_size > 10_000
    return path


@pytest.mark.parametrize(
    "scheme", [Qt.ColorScheme.Light, Qt.ColorScheme.Dark], ids=["light", "dark"]
)
def test_window_screenshot(
    qtbot: QtBot, owner: StoreOwner, starter_model_path: Path, scheme: Qt.ColorScheme
):
    _scheme(scheme)
    w = _window(qtbot, owner)
    try:
        w.resize(1200, 760)
        w.session.options = GenerationOptions(max_tokens=120, temperature=0)
        qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
        ask(qtbot, w, "Give me three tips for a good night's sleep.")
        name = "window-light.png" if scheme == Qt.ColorScheme.Light else "window-dark.png"
        _save(qtbot, w, name)
    finally:
        w.close()
        _scheme(Qt.ColorScheme.Unknown)


def test_reasoning_screenshot(qtbot: QtBot, store: ConversationStore, starter_model_path: Path):
    """A reasoning answer as it is stored and shown: the thinking and the answer were generated
    just now by the starter model (think block opened by the template, budget 48 tokens), saved
    in the store, then opened in the window with the thinking expanded."""
    _scheme(Qt.ColorScheme.Light)
    question = "Is 91 a prime number?"
    catalog = load_catalog()
    with open_model(
        starter_model_path,
        entry=catalog.default,
        n_ctx=2048,
        chat_template=OPENS_THINK,
        reasoning=Reasoning(template_opens=True, budget=48),
    ) as session:
        reply = session.chat(
            [ChatMessage("user", question)], GenerationOptions(temperature=0, max_tokens=160)
        )
    assert reply.thinking.strip() and reply.answer.strip()
    conv = store.create_conversation(question)
    q = store.add_message(conv.id, None, "user", question)
    r = store.begin_reply(conv.id, q.id, model_id=catalog.default.id)
    s = reply.stats
    store.finish_reply(
        r.id,
        reply.answer,
        reply.thinking,
        "done",
        MessageStats(
            s.prompt_tokens, s.generated_tokens, s.time_to_first_token_s, s.tokens_per_second
        ),
    )
    owner = StoreOwner(store)  # the window's store thread, made once the test has written
    w = _window(qtbot, owner)
    try:
        w.resize(1200, 760)
        qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
        w.open_conversation(conv.id)
        qtbot.waitUntil(lambda: len(w.transcript.messages()) == 2)
        section = w.transcript.messages()[1].thinking_section
        assert section.isVisible()
        section.set_expanded(True)
        assert reply.thinking.strip()[:20] in section.text()
        _save(qtbot, w, "reasoning.png")
    finally:
        w.close()
        owner.close()


def test_first_run_narrow_code_models_and_lock_screenshots(
    qtbot: QtBot, owner: StoreOwner, starter_model_path: Path
):
    _scheme(Qt.ColorScheme.Light)
    w = _window(qtbot, owner)
    try:
        w.resize(1200, 760)
        w.session.options = GenerationOptions(max_tokens=160, temperature=0)
        qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
        qtbot.waitUntil(lambda: "on this computer" in w.welcome_label.text(), timeout=10_000)
        _save(qtbot, w, "first-run.png")
        ask(qtbot, w, "Write a Python function that reverses a string, with a docstring.")
        assert w.transcript.messages()[-1].markdown.code_blocks()  # a code answer to show
        _save(qtbot, w, "code-answer.png")
        w.resize(700, 700)
        qtbot.waitUntil(lambda: not w.sidebar.isVisible())
        _save(qtbot, w, "narrow.png")
        w.resize(1200, 760)
        dialog = w.open_models_dialog()
        qtbot.waitUntil(lambda: dialog.hardware is not None, timeout=10_000)
        qtbot.wait(300)
        path = Path(OUT) / "models.png"
        assert dialog.grab().save(str(path))
        dialog.close()
        qtbot.mouseClick(w.lock_button, Qt.MouseButton.LeftButton)  # no WM: no active window
        qtbot.waitUntil(w.lock_screen.isVisible)
        _save(qtbot, w, "lock.png")
    finally:
        w.close()
        _scheme(Qt.ColorScheme.Unknown)


@pytest.mark.parametrize(
    "scheme", [Qt.ColorScheme.Light, Qt.ColorScheme.Dark], ids=["light", "dark"]
)
def test_documents_screenshots(
    qtbot: QtBot, owner: StoreOwner, starter_model_path: Path, tmp_path: Path, scheme
):
    """A reply answered from an attached PDF, with its sources; the Library with a folder of
    papers, one of them unreadable, and an update under way."""
    _scheme(scheme)
    dark = scheme == Qt.ColorScheme.Dark
    papers = tmp_path / "Papers"
    (papers / "Receipts").mkdir(parents=True)
    write_pdf(
        papers / "lease.pdf",
        [
            "Lease of the flat at 4 Rue des Lilas. The lease starts on 1 April 2025.",
            "The rent is 900 euros a month, paid on the first day of each month.",
            "Notice to end the lease is three months, given in writing.",
        ],
    )
    write_docx(papers / "warranty.docx", ["The dishwasher warranty lasts two years."])
    write_scanned_pdf(papers / "scan.pdf")
    (papers / "notes.md").write_text(
        "# Boiler\n\nThe boiler is serviced every October.\n", encoding="utf-8"
    )
    for n in range(3):
        (papers / "Receipts" / f"receipt-{n + 1}.txt").write_text(
            f"Receipt {n + 1}: paint and brushes, {20 + n * 7} euros.", encoding="utf-8"
        )
    w = _window(qtbot, owner)
    try:
        w.resize(1200, 760)
        w.session.options = GenerationOptions(max_tokens=80, temperature=0)
        qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
        w.composer.attach([papers / "lease.pdf"])
        ask(qtbot, w, "How much is the rent, and when is it paid?")
        row = w.transcript.messages()[-1].sources_row
        assert row is not None and row.isVisible()
        w.composer.attach([papers / "notes.md", papers / "warranty.docx"])
        _save(qtbot, w, f"sources-{'dark' if dark else 'light'}.png")
        passage = w.documents.show_source(w.transcript.messages()[-1].sources_row.sources()[1])
        qtbot.waitUntil(passage.isVisible)
        qtbot.wait(300)
        assert passage.grab().save(str(Path(OUT) / f"passage-{'dark' if dark else 'light'}.png"))
        passage.close()

        dialog = w.open_library_dialog()
        assert dialog is not None
        dialog.create_library("Home papers")
        qtbot.waitUntil(lambda: dialog.library is not None)
        dialog.add_paths([papers])
        qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Up to date"), timeout=60_000)
        qtbot.waitUntil(lambda: len(dialog.documents()) == 8)
        dialog.choose_document(papers / "scan.pdf")  # its reason in full, under the list
        assert "OCR" in dialog.detail_label.text()
        qtbot.wait(300)
        path = Path(OUT) / f"library-{'dark' if dark else 'light'}.png"
        assert dialog.grab().save(str(path))
        dialog.close()
    finally:
        w.close()
        _scheme(Qt.ColorScheme.Unknown)
