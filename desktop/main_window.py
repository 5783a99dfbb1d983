"""The main window: conversations on the left, the chat in the middle, the model and the
privacy mode always in view.

Views never touch the store or the model directly: the model belongs to the InferenceWorker
on its own thread, and store calls go through BackgroundOp (one storage thread, in order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QThread, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

import engine.policy
from desktop import app_lock, background
from desktop.background import BackgroundOp
from desktop.dialogs.models_dialog import ModelsDialog
from desktop.dialogs.open_link_dialog import confirm_open_link
from desktop.dialogs.privacy_confirm_dialog import PrivacyConfirmDialog
from desktop.dialogs.privacy_dialog import PrivacyDialog
from desktop.dialogs.settings_dialog import SettingsDialog
from desktop.errors import show_error
from desktop.settings import AppSettings
from desktop.widgets.composer import ComposerWidget
from desktop.widgets.lock_screen import LockScreenWidget
from desktop.widgets.message_widget import MessageWidget
from desktop.widgets.privacy_toggle import PrivacyToggleWidget
from desktop.widgets.sidebar import SidebarWidget
from desktop.widgets.transcript_view import TranscriptView
from desktop.workers.inference_worker import InferenceWorker
from engine.catalog import Catalog, CatalogModel, Sampling, load_catalog
from engine.catalog.fit import fit_model
from engine.catalog.hardware import Hardware, detect
from engine.catalog.installed import installed
from engine.catalog.plan import recommend
from engine.errors import HearthError, ModelDoesNotFit
from engine.inference import FinishReason, Notice, Reply
from engine.policy import Mode
from engine.policy.privacy_check import data_locations
from engine.storage import (
    ConversationStore,
    ConversationSummary,
    Message,
    SearchHit,
    StoreClosed,
)

T = TypeVar("T")

# Repaint streaming text at most this often (about 30 times a second).
FLUSH_INTERVAL_MS = 33
# How long a deleted conversation can be brought back before it is really deleted.
UNDO_DELETE_MS = 10_000
GREETING = "Ask anything. Nothing leaves this computer."
GEOMETRY_SETTING = "window.geometry"
SPLITTER_SETTING = "window.splitter"
# The idle-lock setting counts in minutes.
IDLE_UNIT_MS = 60_000
# Input that counts as the person being there (resets the idle-lock timer).
_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class _ActivityFilter(QObject):
    """Application-wide event filter: reports input, lets every event through."""

    input_seen = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self.input_seen.emit()
        return False


@dataclass
class _Stream:
    """The reply being streamed into the view."""

    widget: MessageWidget
    question: MessageWidget | None
    pending: list[tuple[str, str]] = field(default_factory=list)  # ("thinking"|"answer", text)


class MainWindow(QMainWindow):
    # To the worker (queued: it lives on the inference thread).
    load_requested = Signal(str)
    send_requested = Signal(str)
    regenerate_requested = Signal(int)
    edit_requested = Signal(int, str)
    continue_requested = Signal(int)
    context_forget_requested = Signal()
    conversation_opened = Signal(object)  # conversation id or None (a new one)
    # After Forget everything: the store is gone and the window closes (the app then quits;
    # the next start is a first run).
    everything_forgotten = Signal()
    store_locked = Signal()  # the lock screen is up and the store closed
    settings_saved = Signal()

    def __init__(self, store: ConversationStore, model: str = "") -> None:
        super().__init__()
        self.store = store
        self.setWindowTitle("Hearth")
        self.resize(1100, 760)
        self._conversation_id: int | None = None
        self._stream: _Stream | None = None
        self._ready = False
        self._n_ctx = 0
        self._queued: list[str] = []
        self._pending_deletes: dict[int, QTimer] = {}
        self._summaries: list[ConversationSummary] = []
        self._closing = False
        self._locked = False  # the lock screen is up (the store may still be closing)
        self._forgetting = False
        self._privacy_dialog: PrivacyDialog | None = None
        self._models_dialog: ModelsDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.settings = AppSettings()
        # Read once: models.toml ships with the app, and hardware detection imports llama.cpp
        # (and may run nvidia-smi), too slow for every new chat on the GUI thread.
        self._catalog: Catalog | None = None
        self._catalog_error: HearthError | None = None
        try:
            self._catalog = load_catalog()
        except HearthError as exc:
            self._catalog_error = exc
        self._hardware: Hardware | None = None
        with contextlib.suppress(HearthError):
            self._hardware = detect()

        self._build_widgets()
        self._build_worker(model)
        self._connect()
        self._install_shortcuts()
        self._restore_state()
        self._apply_settings()
        self._refresh_conversations()
        self._show_welcome()
        self._start_loading(self._initial_model)

    @property
    def _busy(self) -> bool:
        """A reply is streaming (or waiting for the model to load)."""
        return self._stream is not None

    # -- construction ----------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.sidebar = SidebarWidget()
        self.transcript = TranscriptView()
        self.composer = ComposerWidget()
        self.welcome_label = QLabel()
        self.welcome_label.setWordWrap(True)
        self.welcome_label.setTextFormat(Qt.TextFormat.PlainText)
        self.welcome_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome_label.setAccessibleName("Welcome")

        self.model_picker = QComboBox()
        self.model_picker.setAccessibleName("Model")
        self.model_picker.setToolTip("The model that answers. Only installed models are listed.")
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 0)  # busy indicator: llama.cpp loads in one call
        self.load_progress.setMaximumWidth(120)
        self.load_progress.setAccessibleName("Loading the model")
        self.model_label = QLabel("Loading model…")
        self.model_label.setAccessibleName("Loaded model")
        self.privacy_toggle = PrivacyToggleWidget(engine.policy.current_mode())
        self.models_button = QPushButton("Models…")
        self.models_button.setAccessibleName("Models")
        self.models_button.setToolTip("Install, import or remove models.")
        self.privacy_button = QPushButton("Privacy…")
        self.privacy_button.setAccessibleName("Privacy panel")
        self.privacy_button.setToolTip(
            "What tried to leave this computer, and where your data lives."
        )
        self.settings_button = QPushButton("Settings…")
        self.settings_button.setAccessibleName("Settings")
        self.lock_button = QPushButton("Lock")
        self.lock_button.setAccessibleName("Lock Hearth")
        self.lock_button.setToolTip("Hide everything and close the history (Ctrl+L).")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo delete")
        self.undo_button.hide()

        top = QHBoxLayout()
        top.addWidget(self.model_picker)
        top.addWidget(self.load_progress)
        top.addWidget(self.models_button)
        top.addStretch(1)
        top.addWidget(self.privacy_toggle)
        top.addWidget(self.privacy_button)
        top.addWidget(self.settings_button)
        top.addWidget(self.lock_button)
        chat = QWidget()
        column = QVBoxLayout(chat)
        column.addLayout(top)
        column.addWidget(self.welcome_label, 1)
        column.addWidget(self.transcript, 4)
        column.addWidget(self.composer)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(chat)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        self.lock_screen = LockScreenWidget()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)
        self.statusBar().addPermanentWidget(self.undo_button)
        self.statusBar().addPermanentWidget(self.model_label)
        self._fill_model_picker()
        self._update_welcome()

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._idle_timer = QTimer(self)
        self._idle_timer.setSingleShot(True)
        self._idle_timer.timeout.connect(self.lock)
        self._activity = _ActivityFilter(self)
        self._activity.input_seen.connect(self._on_activity_input_seen)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._activity)

    def _build_worker(self, model: str) -> None:
        self._thread = QThread(self)
        self._thread.setObjectName("inference")
        self.worker = InferenceWorker(self.store)
        self.worker.moveToThread(self._thread)
        self._thread.finished.connect(self.worker.deleteLater)
        self._thread.start()
        self._initial_model = model or self.model_picker.currentData() or ""

    def _connect(self) -> None:
        w = self.worker
        self.load_requested.connect(w.load)
        self.send_requested.connect(w.send)
        self.regenerate_requested.connect(w.regenerate)
        self.edit_requested.connect(w.edit)
        self.continue_requested.connect(w.continue_reply)
        self.context_forget_requested.connect(w.forget_context)
        self.conversation_opened.connect(w.open_conversation)
        w.model_loaded.connect(self._on_worker_model_loaded)
        w.model_failed.connect(self._on_worker_model_failed)
        w.turn_started.connect(self._on_worker_turn_started)
        w.thinking_received.connect(self._on_worker_thinking_received)
        w.answer_received.connect(self._on_worker_answer_received)
        w.notice_received.connect(self._on_worker_notice_received)
        w.generation_finished.connect(self._on_worker_generation_finished)
        w.reply_saved.connect(self._on_worker_reply_saved)
        w.generation_failed.connect(self._on_worker_generation_failed)

        self.composer.send_requested.connect(self._on_composer_send_requested)
        self.composer.stop_requested.connect(self.stop)
        self.transcript.link_activated.connect(self._on_transcript_link_activated)
        self.transcript.copy_requested.connect(self._on_transcript_copy_requested)
        self.transcript.regenerate_requested.connect(self._on_transcript_regenerate_requested)
        self.transcript.edit_requested.connect(self._on_transcript_edit_requested)
        self.transcript.continue_requested.connect(self._on_transcript_continue_requested)
        self.transcript.branch_requested.connect(self._on_transcript_branch_requested)
        self.transcript.answer_now_requested.connect(self.worker.answer_now)
        self.sidebar.conversation_selected.connect(self._on_sidebar_conversation_selected)
        self.sidebar.search_hit_selected.connect(self._on_sidebar_search_hit_selected)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.rename_requested.connect(self._on_sidebar_rename_requested)
        self.sidebar.delete_requested.connect(self._on_sidebar_delete_requested)
        self.sidebar.pin_requested.connect(self._on_sidebar_pin_requested)
        self.sidebar.search_changed.connect(self._on_sidebar_search_changed)
        self.undo_button.clicked.connect(self._on_undo_button_clicked)
        self.model_picker.activated.connect(self._on_model_picker_activated)
        self.privacy_toggle.mode_change_requested.connect(
            self._on_privacy_toggle_mode_change_requested
        )
        self.models_button.clicked.connect(self.open_models_dialog)
        self.privacy_button.clicked.connect(self.open_privacy_dialog)
        self.settings_button.clicked.connect(self.open_settings_dialog)
        self.lock_button.clicked.connect(self.lock)
        self.lock_screen.unlock_requested.connect(self._on_lock_screen_unlock_requested)

    def _install_shortcuts(self) -> None:
        for keys, slot in (
            (QKeySequence.StandardKey.New, self.new_conversation),
            (QKeySequence.StandardKey.Find, self._focus_search),
            (QKeySequence("Esc"), self.stop),
            (QKeySequence("Ctrl+Shift+C"), self.copy_last_answer),
            (QKeySequence("Ctrl+L"), self.lock),
            (QKeySequence.StandardKey.Preferences, self.open_settings_dialog),
        ):
            QShortcut(keys, self, slot)

    def _fill_model_picker(self) -> None:
        self.model_picker.clear()
        catalog = self._catalog
        if catalog is None:
            self.model_picker.addItem("No model catalog", "")
            if self._catalog_error is not None:
                self.model_picker.setToolTip(self._catalog_error.full_message)
            return
        have = installed(catalog)
        for model in catalog.models:
            if model.id in have:
                self.model_picker.addItem(f"{model.name} {model.quantization}", model.id)
        index = self.model_picker.findData(catalog.default_id)
        self.model_picker.setCurrentIndex(max(index, 0))

    # -- conversations ---------------------------------------------------------------------

    def new_conversation(self) -> None:
        """Ctrl+N: an empty chat; it is stored when the first question is sent."""
        if self._busy:
            self.stop()
        self._conversation_id = None
        self.conversation_opened.emit(None)
        self.transcript.clear()
        self._show_welcome()
        self.composer.focus_input()

    def open_conversation(self, conversation_id: int, *, scroll_to: int | None = None) -> None:
        """Show a stored conversation (its active branch). A reply still streaming elsewhere is
        stopped first and kept as 'interrupted'."""
        if conversation_id == self._conversation_id and scroll_to is None:
            return
        if self._busy:
            self.stop()
        self._conversation_id = conversation_id
        self.conversation_opened.emit(conversation_id)
        store = self.store

        def load() -> tuple[list[Message], dict[int, tuple[int, int]]]:
            if scroll_to is not None:
                target = store.get_message(scroll_to)
                if target.id not in {m.id for m in store.active_path(conversation_id)}:
                    store.switch_branch(target.id)  # a hit on another branch: show that one
            path = store.active_path(conversation_id)
            return path, _branches(store, path)

        def show(result: tuple[list[Message], dict[int, tuple[int, int]]]) -> None:
            if self._conversation_id != conversation_id:
                return  # the person moved on meanwhile
            path, branches = result
            self.welcome_label.hide()
            self.transcript.show()
            self.transcript.set_messages(path, branches)
            if scroll_to is not None and (w := self.transcript.message_widget(scroll_to)):
                self.transcript.ensureWidgetVisible(w)

        self._op(load, show)

    def _refresh_conversations(self) -> None:
        store = self.store
        self._op(store.list_conversations, self._on_conversations_listed)

    def _on_conversations_listed(self, summaries: list[ConversationSummary]) -> None:
        self._summaries = summaries
        visible = [s for s in summaries if s.id not in self._pending_deletes]
        self.sidebar.set_conversations(visible)
        if self._conversation_id is not None and not self.sidebar.search_text():
            self.sidebar.select_conversation(self._conversation_id)

    def _on_sidebar_conversation_selected(self, conversation_id: int) -> None:
        self.open_conversation(conversation_id)

    def _on_sidebar_search_hit_selected(self, conversation_id: int, message_id: int) -> None:
        self.open_conversation(conversation_id, scroll_to=message_id if message_id >= 0 else None)

    def _on_sidebar_search_changed(self, query: str) -> None:
        if not query.strip():
            self._refresh_conversations()
            return
        store = self.store

        def show(hits: list[SearchHit]) -> None:
            if self.sidebar.search_text() == query:  # still what the person is looking for
                self.sidebar.set_search_results(
                    query, [h for h in hits if h.conversation_id not in self._pending_deletes]
                )

        self._op(lambda: store.search(query), show)

    def _on_sidebar_rename_requested(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            self._refresh_conversations()
            return
        store = self.store
        self._op(
            lambda: store.rename(conversation_id, title), lambda _: self._refresh_conversations()
        )

    def _on_sidebar_pin_requested(self, conversation_id: int, pinned: bool) -> None:
        store = self.store
        self._op(
            lambda: store.set_pinned(conversation_id, pinned),
            lambda _: self._refresh_conversations(),
        )

    def _on_sidebar_delete_requested(self, conversation_id: int) -> None:
        """Hidden at once; deleted for good when the undo offer runs out (or at close)."""
        if conversation_id == self._conversation_id:
            self.new_conversation()
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(UNDO_DELETE_MS)
        timer.timeout.connect(lambda: self._delete_now(conversation_id))
        self._pending_deletes[conversation_id] = timer
        timer.start()
        title = next((s.title for s in self._summaries if s.id == conversation_id), "")
        self.statusBar().showMessage(f"Deleted “{title}”.", UNDO_DELETE_MS)
        self.undo_button.show()
        self._on_conversations_listed(self._summaries)

    def _on_undo_button_clicked(self) -> None:
        for timer in self._pending_deletes.values():
            timer.stop()
        self._pending_deletes.clear()
        self.undo_button.hide()
        self.statusBar().clearMessage()
        self._on_conversations_listed(self._summaries)

    def _delete_now(self, conversation_id: int) -> None:
        timer = self._pending_deletes.pop(conversation_id, None)
        if timer is None:
            return
        if not self._pending_deletes:
            self.undo_button.hide()
        store = self.store
        self._op(
            lambda: store.delete_conversation(conversation_id),
            lambda _: self._refresh_conversations(),
        )

    # -- sending ---------------------------------------------------------------------------

    def _on_composer_send_requested(self, text: str) -> None:
        text = text.strip()
        if not text or self._busy:
            return
        self.composer.clear()
        self.welcome_label.hide()
        self.transcript.show()
        question = self.transcript.add_message("user", text)
        reply = self.transcript.add_message("assistant", streaming=True)
        self._begin_stream(reply, question)
        if self._ready:
            self.send_requested.emit(text)
        else:
            self._queued.append(text)  # sent as soon as the model is loaded
            self.statusBar().showMessage("Waiting for the model to load…")

    def _begin_stream(self, reply: MessageWidget, question: MessageWidget | None) -> None:
        self._stream = _Stream(reply, question)
        self.composer.set_busy(True)
        self._flush_timer.start()
        self.transcript.scroll_to_bottom()

    def _on_transcript_regenerate_requested(self, reply_id: int) -> None:
        if self._busy or not self._ready or reply_id < 0:
            return
        self._truncate_from(reply_id)
        self._begin_stream(self.transcript.add_message("assistant", streaming=True), None)
        self.regenerate_requested.emit(reply_id)

    def _on_transcript_continue_requested(self, reply_id: int) -> None:
        """Continue a stopped reply where it ended; its text keeps growing in place."""
        widget = self.transcript.message_widget(reply_id)
        if (
            self._busy
            or not self._ready
            or widget is None
            or widget is not self.transcript.last_message()
        ):
            return
        widget.set_status("streaming")
        self._begin_stream(widget, None)
        self.continue_requested.emit(reply_id)

    def _on_transcript_edit_requested(self, message_id: int, text: str) -> None:
        text = text.strip()
        if self._busy or not self._ready or message_id < 0 or not text:
            return
        self._truncate_from(message_id)
        question = self.transcript.add_message("user", text)
        self._begin_stream(self.transcript.add_message("assistant", streaming=True), question)
        self.edit_requested.emit(message_id, text)

    def _truncate_from(self, message_id: int) -> None:
        """Drop ``message_id`` and what follows it from the view (a new branch replaces them)."""
        widgets = self.transcript.messages()
        keep = next(
            (i for i, w in enumerate(widgets) if w.message_id() == message_id), len(widgets)
        )
        path = widgets[:keep]
        ids = [w.message_id() for w in path]
        self.transcript.clear()
        for w_id, old in zip(ids, path, strict=True):
            widget = self.transcript.add_message(old.role(), old.text(), message_id=w_id)
            widget.set_status(old.status())

    def _on_transcript_branch_requested(self, message_id: int, index: int) -> None:
        if self._busy or message_id < 0 or self._conversation_id is None:
            return
        store = self.store
        conversation_id = self._conversation_id

        def switch() -> tuple[list[Message], dict[int, tuple[int, int]]]:
            siblings = store.siblings(message_id)
            path = store.switch_branch(siblings[max(0, min(index, len(siblings) - 1))].id)
            return path, _branches(store, path)

        def show(result: tuple[list[Message], dict[int, tuple[int, int]]]) -> None:
            if self._conversation_id == conversation_id:
                self.transcript.set_messages(*result)

        self._op(switch, show)

    def stop(self) -> None:
        """Esc / Stop: end the reply; what was written so far is kept."""
        self.worker.cancel()

    def copy_last_answer(self) -> None:
        answers = [w for w in self.transcript.messages() if w.role() == "assistant"]
        if answers and answers[-1].text():
            QGuiApplication.clipboard().setText(answers[-1].text())
            self.statusBar().showMessage("Answer copied.", 3000)

    def _on_transcript_copy_requested(self, _message_id: int) -> None:
        # The message widget has already put its text on the clipboard.
        self.statusBar().showMessage("Copied.", 3000)

    def _on_transcript_link_activated(self, url: QUrl) -> None:
        # A browser is egress by another process: never opened without asking.
        if url.scheme() not in {"http", "https"}:
            return
        confirmed = confirm_open_link(self, url)
        engine.policy.record_link_opened(url.toString(), confirmed=confirmed)
        if confirmed:
            QDesktopServices.openUrl(url)

    # -- model -----------------------------------------------------------------------------

    def _start_loading(self, spec: str) -> None:
        self._ready = False
        self.load_progress.show()
        self.model_picker.setEnabled(False)
        self.model_label.setText("Loading model…")
        self.load_requested.emit(spec)

    def _on_model_picker_activated(self, index: int) -> None:
        spec = self.model_picker.itemData(index)
        if spec and not self._busy:
            self._start_loading(spec)

    def _on_worker_model_loaded(self, name: str, n_ctx: int) -> None:
        self._ready = True
        self._n_ctx = n_ctx
        self.load_progress.hide()
        self.model_picker.setEnabled(True)
        self.model_label.setText(name)
        self.composer.set_token_usage(0, n_ctx)
        self.statusBar().clearMessage()
        if self._queued:
            self.send_requested.emit(self._queued.pop(0))

    def _on_worker_model_failed(self, exc: HearthError) -> None:
        self.load_progress.hide()
        self.model_picker.setEnabled(True)
        self.model_label.setText("No model")
        if isinstance(exc, ModelDoesNotFit):
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "This model does not fit",
                exc.user_message,
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setObjectName("model_does_not_fit_dialog")
            box.setInformativeText(exc.next_step)
            box.open()
        else:
            show_error(self, exc, "The model could not be loaded")
        if self._stream is not None:  # a question was waiting for this model
            self._queued.clear()
            self._end_stream("error", None, exc.user_message)
        idx = self.model_picker.findData(self._initial_model)
        if idx >= 0:  # _ready is False here: _start_loading cleared it
            self.model_picker.setCurrentIndex(idx)

    # -- streaming -------------------------------------------------------------------------

    def _on_worker_turn_started(self, question: Message, reply_id: int) -> None:
        stream = self._stream
        if stream is None:
            return
        stream.widget.set_message_id(reply_id)
        if stream.question is not None:
            stream.question.set_message_id(question.id)
        if self._conversation_id != question.conversation_id:
            self._conversation_id = question.conversation_id  # a new chat was just stored
            self._refresh_conversations()

    def _on_worker_thinking_received(self, text: str) -> None:
        self._queue_text("thinking", text)

    def _on_worker_answer_received(self, text: str) -> None:
        self._queue_text("answer", text)

    def _queue_text(self, kind: str, text: str) -> None:
        if self._stream is not None:
            pending = self._stream.pending
            if pending and pending[-1][0] == kind:
                pending[-1] = (kind, pending[-1][1] + text)
            else:
                pending.append((kind, text))

    def _flush(self) -> None:
        """Hand what arrived since the last flush to the view: one update per batch."""
        stream = self._stream
        if stream is None or not stream.pending:
            return
        pending, stream.pending = stream.pending, []
        for kind, text in pending:
            if kind == "thinking":
                stream.widget.append_thinking(text)
            else:
                stream.widget.append_answer(text)

    def _on_worker_notice_received(self, notice: Notice) -> None:
        self._flush()
        if self._stream is not None:
            self._stream.widget.add_notice(notice)

    def _on_worker_generation_finished(self, reply: Reply) -> None:
        status = "interrupted" if reply.finish_reason is FinishReason.CANCELLED else "done"
        s = reply.stats
        self.composer.set_token_usage(s.prompt_tokens + s.generated_tokens, self._n_ctx)
        self.statusBar().showMessage(
            f"{s.generated_tokens} tokens · {s.tokens_per_second:.1f} tokens/s · "
            f"first token {s.time_to_first_token_s:.2f} s",
            10_000,
        )
        self._end_stream(status, reply, "")

    def _on_worker_reply_saved(self, message: Message) -> None:
        store = self.store
        widget = self.transcript.message_widget(message.id)
        if widget is None:
            return
        widget.set_stats(message.stats)

        def count() -> tuple[int, int]:
            siblings = store.siblings(message.id)
            return [m.id for m in siblings].index(message.id), len(siblings)

        def show(branch: tuple[int, int]) -> None:
            if shiboken6.isValid(widget):  # the view may have moved to another conversation
                widget.set_branch(*branch)

        self._op(count, show)
        self._refresh_conversations()

    def _on_worker_generation_failed(self, message: str) -> None:
        self._end_stream("error", None, message)

    def _end_stream(self, status: str, reply: Reply | None, error: str) -> None:
        self._flush_timer.stop()
        self._flush()
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.widget.finish(status, reply.stats if reply else None)  # type: ignore[arg-type]
            if error:
                stream.widget.notes_label.setText(error)
                stream.widget.notes_label.show()
        self.composer.set_busy(False)
        if self._forgetting:
            self._forget_now()
        elif self._locked:
            self._lock_store()

    # -- privacy ---------------------------------------------------------------------------

    def _on_privacy_toggle_mode_change_requested(self, value: str) -> None:
        """Widening asks first (Cancel by default); narrowing back never does."""
        mode = Mode(value)
        if mode is Mode.DOWNLOADS_ALLOWED:
            dialog = PrivacyConfirmDialog(download_hosts(self._catalog), self)
            dialog.setObjectName("privacy_confirm_dialog")
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            dialog.deleteLater()
            if not accepted:
                return
        engine.policy.set_mode(mode)
        self.privacy_toggle.set_mode(engine.policy.current_mode())

    def open_privacy_dialog(self) -> PrivacyDialog:
        """The privacy panel; what the store holds is filled in once read."""
        self.privacy_toggle.set_mode(engine.policy.current_mode())
        store = self.store
        dialog = PrivacyDialog(
            engine.policy.ledger().entries(),
            data_locations(store.path),
            engine.policy.current_mode().label,
            self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.forget_requested.connect(self._on_privacy_dialog_forget_requested)
        self._privacy_dialog = dialog

        def read() -> tuple[str, int, bool]:
            return store.protection_description, store.egress_count(), store.saved

        def show(details: tuple[str, int, bool]) -> None:
            dialog.set_store_details(*details)  # BackgroundOp skips this once dialog is gone

        BackgroundOp(dialog, read).success(show).failure(self._show_error).run()
        dialog.open()
        return dialog

    def _on_privacy_dialog_forget_requested(self) -> None:
        """Confirmed in the dialog: stop the reply, then delete the key, the database and
        the passcode; the window then closes and the app quits (decided: a restart in the
        same process would have to rebuild the store and the worker, and a quit is plainly
        final). The next start is a first run."""
        self._forgetting = True
        self.worker.cancel()
        self._queued.clear()
        if not self._busy:
            self._forget_now()

    def _forget_now(self) -> None:
        for timer in self._pending_deletes.values():
            timer.stop()
        self._pending_deletes.clear()
        self.transcript.clear()
        self.sidebar.set_conversations([])
        engine.policy.ledger().detach()  # the store that kept the ledger is going away
        store = self.store

        def forget() -> None:
            store.forget_everything()
            app_lock.clear_passcode()

        self._op(forget, self._on_everything_forgotten)

    def _on_everything_forgotten(self, _result: None) -> None:
        self.everything_forgotten.emit()
        self.close()

    def open_models_dialog(self) -> ModelsDialog:
        # Hardware is measured afresh (free memory changes while the app runs); the welcome
        # text then uses that measurement.
        dialog = ModelsDialog(self._catalog, parent=self)
        self._hardware = dialog.hardware
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_models_dialog_finished)
        self._models_dialog = dialog
        dialog.open()
        return dialog

    def _on_models_dialog_finished(self, _result: int) -> None:
        """Models may have come or gone: list what is installed now, keep the choice."""
        current = self.model_picker.currentData()
        self._fill_model_picker()
        index = self.model_picker.findData(current)
        if index >= 0:
            self.model_picker.setCurrentIndex(index)
        self._update_welcome()
        self.privacy_toggle.set_mode(engine.policy.current_mode())
        self._models_dialog = None

    # -- settings --------------------------------------------------------------------------

    def _apply_settings(self) -> None:
        """Read the settings from the store (once, at start, like the window state) and hand
        them to the worker and the idle timer."""
        try:
            self.settings = AppSettings.from_store(self.store.get_setting)
        except HearthError:
            self.settings = AppSettings()
        self._use_settings(self.settings)

    def _use_settings(self, settings: AppSettings) -> None:
        self.settings = settings
        self.worker.options = settings.options(self.worker.options)
        self.worker.load_settings = settings.load()
        self._restart_idle_timer()

    def open_settings_dialog(self) -> None:
        """Settings; the open conversation's system prompt is read first."""
        if self._locked:
            return
        store = self.store
        conversation_id = self._conversation_id

        def read() -> str | None:
            if conversation_id is None:
                return None
            return store.get_conversation(conversation_id).system_prompt

        self._op(read, lambda prompt: self._show_settings_dialog(conversation_id, prompt))

    def _show_settings_dialog(
        self, conversation_id: int | None, system_prompt: str | None
    ) -> SettingsDialog:
        entry = self._current_catalog_entry()
        dialog = SettingsDialog(
            self.settings,
            system_prompt=system_prompt,
            sampling=entry.sampling if entry else Sampling(),
            reasoning=entry.reasoning if entry else None,
            has_passcode=app_lock.has_passcode(),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_settings_dialog_accepted(dialog, conversation_id))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _on_settings_dialog_accepted(
        self, dialog: SettingsDialog, conversation_id: int | None
    ) -> None:
        settings, prompt, passcode = (
            dialog.settings(),
            dialog.system_prompt(),
            dialog.passcode_change(),
        )
        load_changed = settings.load() != self.settings.load()
        self._use_settings(settings)
        store = self.store

        def save() -> None:
            for key, value in settings.to_store().items():
                if value is None:
                    store.delete_setting(key)
                else:
                    store.set_setting(key, value)
            if prompt is not None and conversation_id is not None:
                store.set_system_prompt(conversation_id, prompt)
            if passcode == "":
                app_lock.clear_passcode()
            elif passcode is not None:
                app_lock.set_passcode(passcode)

        def saved(_result: None) -> None:
            self.statusBar().showMessage(
                "Settings saved. Context size, threads and GPU layers apply the next time a "
                "model loads."
                if load_changed
                else "Settings saved.",
                8000,
            )
            self.settings_saved.emit()

        self._op(save, saved)

    def _current_catalog_entry(self) -> CatalogModel | None:
        if self._catalog is None:
            return None
        try:
            return self._catalog.get(self.model_picker.currentData() or "")
        except KeyError:
            return None

    # -- app lock --------------------------------------------------------------------------

    def _restart_idle_timer(self) -> None:
        minutes = self.settings.lock_idle_minutes
        if minutes > 0 and not self._locked:
            self._idle_timer.start(minutes * IDLE_UNIT_MS)
        else:
            self._idle_timer.stop()

    def _on_activity_input_seen(self) -> None:
        if self._idle_timer.isActive():
            self._idle_timer.start()  # restart the countdown

    def is_locked(self) -> bool:
        return self._locked

    def lock(self) -> None:
        """Ctrl+L or idle: hide every conversation at once; stop the reply, then close the
        store (its key leaves memory). Unlocking reopens it."""
        if self._locked or self._closing or self._forgetting:
            return
        self._locked = True
        self._idle_timer.stop()
        self.worker.cancel()
        self.context_forget_requested.emit()  # the model's KV cache holds the last turns
        self._queued.clear()
        self.pages.setCurrentWidget(self.lock_screen)
        self.statusBar().clearMessage()
        self.statusBar().hide()
        self.setWindowTitle("Hearth")
        for dialog in (self._privacy_dialog, self._models_dialog, self.settings_dialog):
            if dialog is not None and shiboken6.isValid(dialog):
                dialog.reject()
        self.lock_screen.reset(needs_passcode=app_lock.has_passcode())
        if not self._busy:
            self._lock_store()  # else once the reply has stopped (_end_stream)

    def _lock_store(self) -> None:
        self.transcript.clear()
        self.sidebar.set_conversations([])
        self.sidebar.search_edit.clear()
        store = self.store
        pending = list(self._pending_deletes)
        for timer in self._pending_deletes.values():
            timer.stop()
        self._pending_deletes.clear()
        self.undo_button.hide()

        def close() -> None:
            for conversation_id in pending:  # their undo offer ends with the lock
                store.delete_conversation(conversation_id)
            store.lock()

        def closed(_result: None) -> None:
            self.lock_screen.set_ready(True)
            self.store_locked.emit()

        self._op(close, closed)

    def _on_lock_screen_unlock_requested(self, passcode: str) -> None:
        store = self.store

        def unlock() -> bool:
            if app_lock.has_passcode() and not app_lock.check_passcode(passcode):
                return False
            store.unlock()
            return True

        def done(ok: bool) -> None:
            if not ok:
                self.lock_screen.show_problem("Wrong passcode. Try again.")
                return
            self._locked = False
            self.pages.setCurrentWidget(self.splitter)
            self.statusBar().show()
            conversation_id, self._conversation_id = self._conversation_id, None
            self._refresh_conversations()
            if conversation_id is not None:
                self.open_conversation(conversation_id)
            else:
                self._show_welcome()
            self._restart_idle_timer()
            self.composer.focus_input()

        def failed(exc: Exception) -> None:
            self.lock_screen.show_problem("Your history could not be reopened.")
            show_error(self, exc, "Hearth could not unlock")

        BackgroundOp(self, unlock).success(done).failure(failed).run()

    # -- first run -------------------------------------------------------------------------

    def _show_welcome(self) -> None:
        """An empty chat says what answers here and how to get the flagship model."""
        self.transcript.hide()
        self.welcome_label.show()

    def _update_welcome(self) -> None:
        """Write the welcome text (at start, and when installed models may have changed)."""
        self.welcome_label.setText(welcome_text(self._catalog, self._hardware))

    # -- window state ----------------------------------------------------------------------

    def _restore_state(self) -> None:
        # Geometry lives in the encrypted store like every other setting: no plain files.
        try:
            geometry = self.store.get_setting(GEOMETRY_SETTING)
            splitter = self.store.get_setting(SPLITTER_SETTING)
        except HearthError:
            return
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        if splitter:
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode()))

    def _save_state(self) -> None:
        try:
            self.store.set_setting(GEOMETRY_SETTING, _b64(self.saveGeometry()))
            self.store.set_setting(SPLITTER_SETTING, _b64(self.splitter.saveState()))
        except HearthError:
            pass  # losing the window size is not worth a dialog at exit

    def _focus_search(self) -> None:
        self.sidebar.search_edit.setFocus()
        self.sidebar.search_edit.selectAll()

    def _show_error(self, exc: Exception) -> None:
        show_error(self, exc)

    def _op(self, fn: Callable[[], T], on_success: Callable[[T], object]) -> None:
        """Run a store call on the storage thread; ``on_success`` follows on this thread.
        Nothing new starts once the window is closing (its storage thread is stopping)."""
        if not self._closing:
            BackgroundOp(self, fn).success(on_success).failure(self._on_op_failed).run()

    def _on_op_failed(self, exc: Exception) -> None:
        if isinstance(exc, StoreClosed) and (self._locked or self._forgetting):
            return  # a late call met the locked (or forgotten) store: nothing to tell
        self._show_error(exc)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Stop the reply (kept as 'interrupted'), let the worker finish its loop, free the
        # model on its thread, then finish queued store work before the store closes.
        self._closing = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._activity)
        self._idle_timer.stop()
        self.worker.cancel()
        self._thread.quit()
        self._thread.wait()
        self.worker.unload()
        self._flush_timer.stop()
        for conversation_id in list(self._pending_deletes):
            self._pending_deletes.pop(conversation_id).stop()
            with contextlib.suppress(HearthError):
                self.store.delete_conversation(conversation_id)
        background.shutdown()
        self._save_state()
        super().closeEvent(event)


def _b64(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode()


def _branches(store: ConversationStore, path: list[Message]) -> dict[int, tuple[int, int]]:
    """(index among siblings, count) for each message of ``path`` that has siblings."""
    out = {}
    for m in path:
        siblings = store.siblings(m.id)
        if len(siblings) > 1:
            out[m.id] = ([s.id for s in siblings].index(m.id), len(siblings))
    return out


def download_hosts(catalog: Catalog | None = None) -> list[str]:
    """The hosts the catalog's models download from (what *Downloads allowed* opens);
    without ``catalog``, the shipped one is read."""
    if catalog is None:
        try:
            catalog = load_catalog()
        except HearthError:
            return []
    return catalog.download_hosts()


def welcome_text(catalog: Catalog | None, hardware: Hardware | None) -> str:
    """What the empty chat says: who answers, whether the flagship runs here, and which
    model suits this computer best. None for either (it could not be read): the short
    greeting only."""
    if catalog is None or hardware is None:
        return GREETING
    try:
        have = installed(catalog)
        flagship = catalog.flagship
        fit = fit_model(flagship, hardware)
        best = recommend(catalog, hardware).model
    except HearthError:
        return GREETING
    lines = [GREETING]
    if flagship.id in have:
        lines.append(f"{flagship.name} {flagship.quantization} is installed: pick it above.")
    else:
        lines.append(
            "You are chatting with the small starter model. Hearth's full assistant is "
            f"{flagship.name} {flagship.quantization}; on this computer: {fit.describe()}."
        )
        lines.append(f"To get it: Models… above, or hearth models pull {flagship.id}")
    if best.id != flagship.id and best.id not in have and best.id != catalog.default_id:
        lines.append(
            f"Best for this computer: {best.name} {best.quantization} "
            f"({fit_model(best, hardware).describe()})."
        )
    return "\n\n".join(lines)
