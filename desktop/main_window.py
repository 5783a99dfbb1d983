"""The main window: conversations on the left, the chat in the middle, the model and the
privacy mode always in view.

The window assembles; its parts decide. ``ChatSession`` owns the turns and the open
conversation, ``ConversationList`` the sidebar's list, ``LockController`` the app lock,
``ModelBarWidget`` the model picker, ``window_state`` what is remembered between runs. Every
store call runs on the store's owner thread; the model lives on its own thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QByteArray, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
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
from desktop import theme
from desktop.background import OWN_THREAD, BackgroundOp
from desktop.chat_session import ChatSession
from desktop.conversation_list import UNDO_DELETE_MS, ConversationList
from desktop.dialogs.library_dialog import LibraryDialog
from desktop.dialogs.models_dialog import ModelsDialog
from desktop.dialogs.open_link_dialog import confirm_open_link
from desktop.dialogs.privacy_dialog import PrivacyDialog
from desktop.dialogs.settings_dialog import SettingsDialog
from desktop.documents_flow import DocumentsFlow
from desktop.errors import show_error
from desktop.history_health import HistoryHealthFlow
from desktop.privacy_flow import PrivacyFlow
from desktop.settings import THEMES, AppSettings
from desktop.settings_flow import SettingsFlow
from desktop.shortcuts import SHORTCUTS, ShortcutsDialog
from desktop.widgets._buttons import icon_button
from desktop.widgets.composer import ComposerWidget
from desktop.widgets.damage_banner import DamageBannerWidget
from desktop.widgets.library_picker import LibraryPickerWidget
from desktop.widgets.lock_screen import LockScreenWidget
from desktop.widgets.model_bar import ModelBarWidget
from desktop.widgets.privacy_toggle import PrivacyToggleWidget
from desktop.widgets.sidebar import SidebarWidget
from desktop.widgets.transcript_view import TranscriptView
from desktop.widgets.welcome import WelcomeWidget
from desktop.window_lock import LockController
from desktop.window_state import WindowState, read_state, save_state
from desktop.workers.inference_worker import TurnOutcome
from engine.catalog import Catalog, CatalogModel, load_catalog
from engine.catalog.advice import model_to_get, welcome_text
from engine.catalog.display import download_size
from engine.catalog.hardware import Hardware, detect
from engine.errors import HearthError, ModelDoesNotFit
from engine.inference import FinishReason
from engine.storage import StoreClosed, StoreOwner

T = TypeVar("T")

# Narrower than this, the conversations list makes room for the chat.
NARROW_PX = 1000


class MainWindow(QMainWindow):
    # After Forget everything: the store is gone and the window closes (the app then quits;
    # the next start is a first run).
    everything_forgotten = Signal()
    store_locked = Signal()  # the lock screen is up and the store closed
    settings_saved = Signal()
    hardware_detected = Signal(object)  # Hardware, measured off the GUI thread

    def __init__(
        self, owner: StoreOwner, *, state: WindowState | None = None, model: str = ""
    ) -> None:
        super().__init__()
        self.owner = owner
        self.setWindowTitle("Hearth")
        self.resize(1100, 760)
        state = state if state is not None else read_state(owner)
        self._closing = False
        self._narrow = False
        self._models_dialog: ModelsDialog | None = None
        self.settings = state.settings
        # models.toml ships with the app and is small; hardware is measured off this thread.
        self._catalog: Catalog | None = None
        self._catalog_error: HearthError | None = None
        try:
            self._catalog = load_catalog()
        except HearthError as exc:
            self._catalog_error = exc
        self._hardware: Hardware | None = None

        self._build_widgets()
        self.session = ChatSession(owner, self.transcript, self)
        self.conversations = ConversationList(owner, self.sidebar, self)
        self.locker = LockController(
            owner, self.session, self.conversations, self.lock_screen, self
        )
        self.settings_flow = SettingsFlow(owner, self)
        self.health = HistoryHealthFlow(owner, self.conversations, self.damage_banner, self)
        self.privacy = PrivacyFlow(
            owner,
            self.session,
            self.conversations,
            self.privacy_toggle,
            self,
            download_hosts=self._catalog.download_hosts() if self._catalog else [],
        )
        self.documents = DocumentsFlow(
            owner,
            self.session,
            self,
            composer=self.composer,
            picker=self.library_picker,
            transcript=self.transcript,
            catalog=self._catalog,
            locked=lambda: self.locker.is_locked,
        )
        self._connect()
        self._install_shortcuts()
        if state.geometry:
            self.restoreGeometry(QByteArray(state.geometry))
        if state.splitter:
            self.splitter.restoreState(QByteArray(state.splitter))
        self._use_settings(self.settings)
        self.conversations.refresh()
        self.health.start()
        self.documents.refresh_libraries()
        self._show_welcome(True)
        self.measure_hardware()
        self.session.load(model or self.model_bar.current_id())

    # -- construction ----------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.sidebar = SidebarWidget()
        self.transcript = TranscriptView()
        self.composer = ComposerWidget()
        self.library_picker = LibraryPickerWidget()
        self.composer.add_tool(self.library_picker)
        self.damage_banner = DamageBannerWidget()
        self.welcome = WelcomeWidget()
        self.welcome_label = self.welcome.advice_label
        self.model_bar = ModelBarWidget()
        self.model_bar.fill(self._catalog, self._catalog_error)
        self.model_label = QLabel("Loading model…")
        self.model_label.setAccessibleName("Loaded model")
        self.privacy_toggle = PrivacyToggleWidget(engine.policy.current_mode())
        self.sidebar_button = icon_button(
            "sidebar", "Show or hide the conversations", "Conversations (Ctrl+B)"
        )
        self.sidebar_button.setCheckable(True)
        self.sidebar_button.setChecked(True)
        self.new_chat_button = icon_button("new-chat", "New chat", "New chat (Ctrl+N)")
        self.privacy_button = icon_button(
            "shield",
            "Privacy panel",
            "What tried to leave this computer, and where your data lives.",
        )
        self.settings_button = icon_button("settings", "Settings", "Settings (Ctrl+,)")
        self.lock_button = icon_button(
            "lock", "Lock Hearth", "Hide everything and close the history (Ctrl+L)"
        )
        self.undo_button = _button("Undo", "Undo delete", "Bring the conversation back.")
        self.undo_button.hide()

        toolbar = QWidget()
        toolbar.setObjectName("toolbar")
        top = QHBoxLayout(toolbar)
        top.setContentsMargins(theme.em(self, 0.5), theme.em(self, 0.25), theme.em(self, 0.5), 0)
        for left in (self.sidebar_button, self.new_chat_button, self.model_bar):
            top.addWidget(left)
        top.addStretch(1)
        for widget in (
            self.privacy_toggle,
            self.privacy_button,
            self.settings_button,
            self.lock_button,
        ):
            top.addWidget(widget)
        chat = QWidget()
        chat.setObjectName("chatColumn")
        column = QVBoxLayout(chat)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(toolbar)
        column.addWidget(self.damage_banner)
        column.addWidget(self.welcome, 1)
        column.addWidget(self.transcript, 1)
        column.addWidget(self.composer)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(chat)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        self.splitter.setChildrenCollapsible(False)
        self._apply_icons()
        self.lock_screen = LockScreenWidget()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)
        self.statusBar().addPermanentWidget(self.undo_button)
        self.statusBar().addPermanentWidget(self.model_label)
        self._update_welcome()

    @property
    def model_picker(self) -> QComboBox:
        return self.model_bar.picker

    @property
    def load_progress(self) -> QProgressBar:
        return self.model_bar.progress

    def _connect(self) -> None:
        s = self.session
        s.busy_changed.connect(self.composer.set_busy)
        s.busy_changed.connect(self.model_bar.set_busy)
        s.conversation_changed.connect(self.conversations.set_current)
        s.conversations_changed.connect(self.conversations.refresh)
        s.model_loading.connect(self._on_session_model_loading)
        s.model_loaded.connect(self._on_session_model_loaded)
        s.model_failed.connect(self._on_session_model_failed)
        s.turn_finished.connect(self._on_session_turn_finished)
        s.transcript_shown.connect(lambda shown: self._show_welcome(not shown))
        s.status_message.connect(self.statusBar().showMessage)
        s.error_raised.connect(self._on_op_failed)
        s.returned.connect(self._on_session_returned)

        s.context_used.connect(self._on_session_context_used)
        self.composer.send_requested.connect(s.send)
        self.composer.stop_requested.connect(s.stop)
        self.composer.draft_changed.connect(s.count_draft)
        self.composer.history_requested.connect(self.edit_last_message)
        self.welcome.example_chosen.connect(self._on_welcome_example_chosen)
        self.welcome.get_model_requested.connect(self._on_welcome_get_model_requested)
        self.sidebar_button.toggled.connect(self._on_sidebar_button_toggled)
        self.sidebar.collapse_toggled.connect(lambda shut: self.sidebar_button.setChecked(not shut))
        self.sidebar.search_dismissed.connect(self.composer.focus_input)
        self.new_chat_button.clicked.connect(self.new_conversation)
        self.transcript.link_activated.connect(self._on_transcript_link_activated)
        self.transcript.copy_requested.connect(self._on_transcript_copy_requested)
        self.conversations.open_requested.connect(self._on_conversations_open_requested)
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.deleted.connect(self._on_conversations_deleted)
        self.conversations.undo_ended.connect(self._on_conversations_undo_ended)
        self.conversations.error_raised.connect(self._on_op_failed)
        self.undo_button.clicked.connect(self.conversations.undo)
        self.model_bar.model_picked.connect(s.load)
        self.model_bar.manage_requested.connect(self.open_models_dialog)
        self.privacy_button.clicked.connect(self.open_privacy_dialog)
        self.documents.status_message.connect(self.statusBar().showMessage)
        self.documents.error_raised.connect(self._on_op_failed)
        self.settings_button.clicked.connect(self.open_settings_dialog)
        self.lock_button.clicked.connect(self.lock)
        self.locker.locked.connect(self._on_locker_locked)
        self.locker.store_locked.connect(self.store_locked)
        self.locker.unlocked.connect(self._on_locker_unlocked)
        self.locker.error_raised.connect(lambda exc, title: show_error(self, exc, title))
        self.health.error_raised.connect(lambda exc, title: show_error(self, exc, title))
        self.privacy.protection_changed.connect(self.locker.set_passphrase_protected)
        self.settings_flow.applied.connect(self._use_settings)
        self.settings_flow.saved.connect(self._on_settings_flow_saved)
        self.settings_flow.draft_prompt_chosen.connect(self._on_settings_flow_draft_prompt_chosen)
        self.settings_flow.error_raised.connect(self._show_error)
        self.settings_flow.records.restored.connect(self.conversations.refresh)
        self.privacy.forgotten.connect(self._on_privacy_forgotten)
        self.privacy.error_raised.connect(self._show_error)

    def _install_shortcuts(self) -> None:
        slots: dict[str, Callable[[], object]] = {
            "new": self.new_conversation,
            "search": self._focus_search,
            "escape": self._on_escape,
            "undo": self._undo_delete,
            "lock": self.lock,
            "settings": self.open_settings_dialog,
            "library": self.open_library_dialog,
            "copy": self.copy_last_answer,
            "sidebar": self.sidebar_button.toggle,
            "help": self.show_shortcuts,
            "quit": self.close,
        }
        for keys, action, _text in SHORTCUTS:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slots[action])

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.composer.focus_input())
        dialog.open()
        return dialog

    def _on_escape(self) -> None:
        """Esc stops the reply (in the search box the sidebar takes it: it clears the search
        and says so with ``search_dismissed``)."""
        self.session.stop()

    def _undo_delete(self) -> None:
        if self.conversations.can_undo():
            self.conversations.undo()
            self.composer.focus_input()

    def edit_last_message(self) -> None:
        """Up in the empty composer: edit the last thing the person asked."""
        if self.session.busy:
            return
        asked = [w for w in self.transcript.messages() if w.role() == "user"]
        if asked and (asked[-1].message_id() or -1) >= 0:
            asked[-1].begin_edit()
            self.transcript.ensureWidgetVisible(asked[-1])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.composer.focus_input()  # typing right after launch goes to the composer

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = self.width() < NARROW_PX
        if narrow != self._narrow:
            self._narrow = narrow
            self.sidebar_button.setChecked(not narrow)  # out of the way when narrow

    def _on_sidebar_button_toggled(self, shown: bool) -> None:
        self.sidebar.set_collapsed(not shown)

    def _apply_icons(self) -> None:
        muted = theme.tokens().muted
        size = theme.em(self, 1.2)
        for button in (
            self.sidebar_button,
            self.new_chat_button,
            self.privacy_button,
            self.settings_button,
            self.lock_button,
        ):
            button.setIcon(theme.icon(button.property("iconName"), muted))
            button.setIconSize(QSize(size, size))

    # -- conversations ---------------------------------------------------------------------

    def new_conversation(self) -> None:
        """Ctrl+N: an empty chat; it is stored when the first question is sent."""
        self.session.new_conversation()
        self.composer.focus_input()

    def open_conversation(self, conversation_id: int, *, scroll_to: int | None = None) -> None:
        """Show a stored conversation; a reply streaming elsewhere is stopped first and kept
        as 'interrupted'."""
        self.session.open_conversation(conversation_id, scroll_to=scroll_to)
        self.composer.focus_input()

    def _on_welcome_example_chosen(self, text: str) -> None:
        self.session.send(text)
        self.composer.focus_input()

    def _on_welcome_get_model_requested(self, model_id: str) -> None:
        dialog = self.open_models_dialog()
        dialog.offer_download(model_id)  # asks first, naming the size

    def _on_session_context_used(self, used: int, limit: int) -> None:
        self.composer.set_token_usage(used, limit)

    def _on_conversations_open_requested(self, conversation_id: int, scroll_to: object) -> None:
        self.open_conversation(
            conversation_id, scroll_to=scroll_to if isinstance(scroll_to, int) else None
        )

    def _on_conversations_deleted(self, title: str) -> None:
        self.statusBar().showMessage(f"Deleted “{title}”.", UNDO_DELETE_MS)
        self.undo_button.show()

    def _on_conversations_undo_ended(self) -> None:
        self.undo_button.hide()
        self.statusBar().clearMessage()

    def _on_session_returned(self, text: str, files: tuple[Path, ...]) -> None:
        if not self.composer.text().strip():
            self.composer.set_text(text)
            self.composer.attach(files)

    def open_library_dialog(self) -> LibraryDialog | None:
        """Ctrl+D: the person's libraries of documents."""
        return None if self.locker.is_locked else self.documents.open_library_dialog()

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

    def _on_session_model_loading(self) -> None:
        self.model_bar.set_loading()
        self.model_label.setText("Loading model…")

    def _on_session_model_loaded(self, name: str, n_ctx: int) -> None:
        self.model_bar.set_loaded()
        self.model_label.setText(name)
        self.composer.set_token_usage(0, n_ctx)
        self.statusBar().clearMessage()

    def _on_session_model_failed(self, exc: HearthError) -> None:
        self.model_bar.set_loaded()
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

    def _on_session_turn_finished(self, outcome: TurnOutcome) -> None:
        """The reply's statistics in the status bar (the context gauge is the session's)."""
        reply = outcome.reply
        if reply is None:
            return
        s = reply.stats
        if reply.finish_reason is not FinishReason.CANCELLED or s.generated_tokens:
            self.statusBar().showMessage(
                f"{s.generated_tokens} tokens · {s.tokens_per_second:.1f} tokens/s · "
                f"first token {s.time_to_first_token_s:.2f} s",
                10_000,
            )

    def measure_hardware(self) -> None:
        """Measure this computer off the GUI thread (llama.cpp's import and nvidia-smi can
        take seconds); the welcome and the Models dialog use the result."""
        BackgroundOp(self, detect).success(self._on_hardware_detected).failure(
            lambda _exc: None  # unknown hardware: the welcome keeps its short greeting
        ).run(OWN_THREAD)

    def _on_hardware_detected(self, hardware: Hardware) -> None:
        self._hardware = hardware
        self._update_welcome()
        if self._models_dialog is not None and shiboken6.isValid(self._models_dialog):
            self._models_dialog.set_hardware(hardware)
        self.hardware_detected.emit(hardware)

    # -- first run -------------------------------------------------------------------------

    def _show_welcome(self, empty: bool) -> None:
        """An empty chat says what answers here and how to get the flagship model."""
        self.welcome.setVisible(empty)
        self.transcript.setVisible(not empty)

    def _update_welcome(self) -> None:
        self.welcome.set_advice(welcome_text(self._catalog, self._hardware))
        model = model_to_get(self._catalog, self._hardware)
        if model is None:
            self.welcome.offer_model("", "", "")
        else:
            self.welcome.offer_model(model.id, model.label, download_size(model) or "")

    # -- privacy ---------------------------------------------------------------------------

    def open_privacy_dialog(self) -> PrivacyDialog:
        return self.privacy.open_dialog()

    def _on_privacy_forgotten(self) -> None:
        self.everything_forgotten.emit()
        self.close()

    # -- models ----------------------------------------------------------------------------

    def open_models_dialog(self) -> ModelsDialog:
        """The model manager, with the last measurement of this computer; it is measured
        afresh meanwhile (free memory changes while the app runs)."""
        dialog = ModelsDialog(self._catalog, self._hardware, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_models_dialog_finished)
        self._models_dialog = dialog
        dialog.open()
        self.measure_hardware()
        return dialog

    def _on_models_dialog_finished(self, _result: int) -> None:
        """Models may have come or gone: list what is installed now, keep the choice."""
        self.model_bar.fill(self._catalog, self._catalog_error)
        self._update_welcome()
        self.privacy.show_mode()
        self._models_dialog = None

    # -- settings --------------------------------------------------------------------------

    def _use_settings(self, settings: AppSettings) -> None:
        # The look in force is the theme module's: compared with it, a stored choice is also
        # applied at start-up (comparing with self.settings would skip it then).
        look = (settings.theme if settings.theme in THEMES else "system", settings.text_size / 100)
        app = QApplication.instance()
        if look != theme.choice() and isinstance(app, QApplication):
            theme.choose(app, *look)  # type: ignore[arg-type]
            self._restyle()
        if self.session.draft_system_prompt == self.session.default_system_prompt:
            self.session.draft_system_prompt = settings.system_prompt
        self.session.default_system_prompt = settings.system_prompt
        self.settings = settings
        self.session.options = settings.options(self.session.options)
        self.session.load_settings = settings.load()
        self.locker.set_idle_minutes(settings.lock_idle_minutes)

    def open_settings_dialog(self) -> None:
        """Settings (Ctrl+,); the open conversation's system prompt is read first (a new
        chat's can be set before its first message)."""
        if not self.locker.is_locked:
            self.settings_flow.open(
                self.settings,
                self.session.conversation_id,
                self._current_catalog_entry(),
                draft_prompt=self.session.draft_system_prompt,
            )

    def _restyle(self) -> None:
        """After a theme change: icons are drawn in the scheme's colours."""
        self._apply_icons()
        self.composer.restyle()
        for widget in self.transcript.messages():
            widget.restyle()

    @property
    def settings_dialog(self) -> SettingsDialog | None:
        return self.settings_flow.dialog

    def _on_settings_flow_saved(self, note: str) -> None:
        self.statusBar().showMessage(note, 8000)
        self.settings_saved.emit()
        self.composer.focus_input()

    def _on_settings_flow_draft_prompt_chosen(self, prompt: str) -> None:
        self.session.draft_system_prompt = prompt

    def _current_catalog_entry(self) -> CatalogModel | None:
        if self._catalog is None:
            return None
        try:
            return self._catalog.get(self.model_bar.current_id())
        except KeyError:
            return None

    # -- app lock --------------------------------------------------------------------------

    def is_locked(self) -> bool:
        return self.locker.is_locked

    def lock(self) -> None:
        """Ctrl+L or idle: hide every conversation at once; the store closes once the reply
        has stopped. Unlocking reopens it."""
        if self._closing or self.privacy.forgetting:
            return
        self.locker.lock()

    def _on_locker_locked(self) -> None:
        self.pages.setCurrentWidget(self.lock_screen)
        self.statusBar().clearMessage()
        self.statusBar().hide()
        self.setWindowTitle("Hearth")
        self.privacy.close_dialog()
        self.documents.close_dialogs()
        for dialog in (self._models_dialog, self.settings_flow.dialog):
            if dialog is not None and shiboken6.isValid(dialog):
                dialog.reject()

    def _on_locker_unlocked(self) -> None:
        self.pages.setCurrentWidget(self.splitter)
        self.documents.refresh_libraries()
        self.statusBar().show()
        self.composer.focus_input()

    # -- plumbing --------------------------------------------------------------------------

    def _focus_search(self) -> None:
        """Ctrl+K / Ctrl+F: the search box, showing the conversations first if hidden."""
        self.sidebar_button.setChecked(True)
        self.sidebar.focus_search()

    def _show_error(self, exc: Exception) -> None:
        show_error(self, exc)

    def _op(self, fn: Callable[[], T], on_success: Callable[[T], object]) -> None:
        """Run a store call on its owner thread; ``on_success`` follows on this thread.
        Nothing new starts once the window is closing."""
        if not self._closing:
            BackgroundOp(self, fn).success(on_success).failure(self._on_op_failed).run(self.owner)

    def _on_op_failed(self, exc: Exception) -> None:
        if isinstance(exc, StoreClosed) and (self.locker.is_locked or self.privacy.forgetting):
            return  # a late call met the locked (or forgotten) store: nothing to tell
        self._show_error(exc)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Stop the reply (kept as 'interrupted'), let the model thread finish its loop and
        # free the model there; the store work asked for here is queued on its owner, which
        # whoever made it closes once the window is gone.
        self._closing = True
        self.locker.stop_watching()
        self.session.shutdown()
        if not self.privacy.forgetting:
            self.conversations.flush_deletes()
            save_state(self.owner, _bytes(self.saveGeometry()), _bytes(self.splitter.saveState()))
        super().closeEvent(event)


def _bytes(data: QByteArray) -> bytes:
    return bytes(data.data())


def _button(text: str, accessible_name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(accessible_name)
    button.setToolTip(tip)
    return button
