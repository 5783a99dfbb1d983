"""The main window: a transcript, a composer, and the privacy mode always in view."""

from __future__ import annotations

from PySide6.QtCore import QThread, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import engine.policy
from desktop.dialogs.open_link_dialog import confirm_open_link
from desktop.workers.inference_worker import InferenceWorker
from engine.inference import Reply
from engine.storage import ConversationStore

# Repaint the transcript at most this often while tokens stream in (about 30 per second).
FLUSH_INTERVAL_MS = 33


class MainWindow(QMainWindow):
    load_requested = Signal(str)
    send_requested = Signal(str)

    def __init__(self, store: ConversationStore, model: str = "") -> None:
        super().__init__()
        self.store = store
        self.setWindowTitle("Hearth")
        self.resize(900, 700)
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)  # a link is egress by another process: never silent
        self.transcript.setAccessibleName("Conversation")
        self.composer = QPlainTextEdit()
        self.composer.setPlaceholderText("Ask anything. Nothing leaves this computer.")
        self.composer.setAccessibleName("Message")
        self.composer.setMaximumHeight(110)
        self.send_button = QPushButton("Send")
        self.send_button.setAccessibleName("Send message")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAccessibleName("Stop the reply")
        self.stop_button.setEnabled(False)
        self.privacy_label = QLabel("🔒 Local-only")
        self.privacy_label.setAccessibleName("Privacy mode: Local-only")
        self.privacy_label.setToolTip("No network connection of any kind is allowed.")
        self.model_label = QLabel("Loading model…")

        row = QHBoxLayout()
        row.addWidget(self.composer, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        row.addLayout(buttons)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(row)
        self.setCentralWidget(central)
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.privacy_label)

        self._pending = ""
        self._busy = False
        self._ready = False
        self._queued: list[str] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)

        self._thread = QThread(self)
        self._thread.setObjectName("inference")
        self.worker = InferenceWorker(store)
        self.worker.moveToThread(self._thread)
        self.load_requested.connect(self.worker.load)
        self.send_requested.connect(self.worker.send)
        self.worker.model_loaded.connect(self._on_worker_model_loaded)
        self.worker.model_failed.connect(self._on_worker_model_failed)
        self.worker.answer_received.connect(self._on_worker_answer_received)
        self.worker.notice_received.connect(self._on_worker_notice_received)
        self.worker.generation_finished.connect(self._on_worker_generation_finished)
        self.worker.generation_failed.connect(self._on_worker_generation_failed)
        self._thread.finished.connect(self.worker.deleteLater)
        self.transcript.anchorClicked.connect(self._on_transcript_anchor_clicked)
        self.send_button.clicked.connect(self._on_send_button_clicked)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        QShortcut(QKeySequence("Ctrl+Return"), self, self._on_send_button_clicked)
        QShortcut(QKeySequence("Esc"), self, self._on_stop_button_clicked)
        self._thread.start()
        self.load_requested.emit(model)

    # -- sending -----------------------------------------------------------------------------

    def _on_send_button_clicked(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text or self._busy:
            return
        self.composer.clear()
        self.transcript.append(f"<p><b>You</b></p><p>{_escape(text)}</p><p><b>Hearth</b></p>")
        self._busy = True
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        if self._ready:
            self._start(text)
        else:
            self._queued.append(text)  # sent as soon as the model is loaded

    def _start(self, text: str) -> None:
        self._flush_timer.start()
        self.send_requested.emit(text)

    def _on_stop_button_clicked(self) -> None:
        self.worker.cancel()

    def _on_transcript_anchor_clicked(self, url: QUrl) -> None:
        # A browser is egress by another process: never opened without asking.
        if url.scheme() not in {"http", "https"}:
            return
        confirmed = confirm_open_link(self, url)
        engine.policy.record_link_opened(url.toString(), confirmed=confirmed)
        if confirmed:
            QDesktopServices.openUrl(url)

    # -- worker signals ----------------------------------------------------------------------

    def _on_worker_model_loaded(self, name: str) -> None:
        self._ready = True
        self.model_label.setText(name)
        if self._queued:
            self._start(self._queued.pop(0))

    def _on_worker_model_failed(self, message: str) -> None:
        self.model_label.setText("No model")
        self.transcript.append(f"<p><i>{_escape(message)}</i></p>")

    def _on_worker_answer_received(self, text: str) -> None:
        self._pending += text

    def _on_worker_notice_received(self, message: str) -> None:
        self._flush()
        self.transcript.append(f"<p><i>{_escape(message)}</i></p>")

    def _flush(self) -> None:
        """Append what arrived since the last flush: one repaint per batch, not per token."""
        if not self._pending:
            return
        text, self._pending = self._pending, ""
        self.transcript.moveCursor(QTextCursor.MoveOperation.End)
        self.transcript.insertPlainText(text)

    def _on_worker_generation_finished(self, reply: Reply) -> None:
        self._flush_timer.stop()
        self._flush()
        s = reply.stats
        self.statusBar().showMessage(
            f"{s.generated_tokens} tokens · {s.tokens_per_second:.1f} tokens/s · "
            f"first token {s.time_to_first_token_s:.2f} s", 10_000)
        self._idle()

    def _on_worker_generation_failed(self, message: str) -> None:
        self._flush_timer.stop()
        self._flush()
        self.transcript.append(f"<p><i>{_escape(message)}</i></p>")
        self._idle()

    def _idle(self) -> None:
        self._busy = False
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Stop the reply, let the worker finish its loop, then free the model on its thread.
        self.worker.cancel()
        self._thread.quit()
        self._thread.wait()
        self.worker.unload()
        super().closeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "\n", "<br>")
