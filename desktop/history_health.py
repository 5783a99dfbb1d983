"""A damaged history in the window: the banner says what is wrong and that nothing can be
saved; Recover… (after asking) copies every readable conversation into a new file on the
store's thread and keeps the damaged one aside. A check that ran out of time at open is
finished on a thread of its own, on a connection of its own, and raises the banner if it
finds damage."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.background import OWN_THREAD, BackgroundOp
from desktop.conversation_list import ConversationList
from desktop.widgets.damage_banner import DamageBannerWidget
from engine.storage import Damage, DatabaseDamaged, RecoveryReport, StoreOwner

ASK = (
    "Recover copies every conversation that can still be read into a new file, which "
    "Hearth uses from then on. The damaged file is moved aside, unchanged, into a folder "
    "named “damaged-…” beside it."
)


class HistoryHealthFlow(QObject):
    recovered = Signal(object)  # RecoveryReport
    error_raised = Signal(object, str)  # exception, title

    def __init__(
        self,
        owner: StoreOwner,
        conversations: ConversationList,
        banner: DamageBannerWidget,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._owner = owner
        self._conversations = conversations
        self._banner = banner
        self._window = window
        banner.recover_requested.connect(self._on_banner_recover_requested)

    def start(self) -> None:
        """Show what open_store found, or finish its check in the background."""
        store = self._owner.store
        BackgroundOp(self, lambda: (store.damage, store.check_pending)).success(
            self._on_state_read
        ).run(self._owner)

    def _on_state_read(self, state: tuple[Damage | None, bool]) -> None:
        damage, pending = state
        if damage is not None:
            self._show(damage)
        elif pending:
            store = self._owner.store
            BackgroundOp(self, store.full_check).success(self._on_full_check_done).run(OWN_THREAD)

    def _on_full_check_done(self, damage: Damage | None) -> None:
        if damage is None:
            return
        store = self._owner.store
        BackgroundOp(self, lambda: store.mark_damaged(damage)).success(
            lambda _: self._show(damage)
        ).run(self._owner)

    def _show(self, damage: Damage) -> None:
        problem = DatabaseDamaged(damage.describe())
        self._banner.show_damage(
            f"{problem.user_message} Recover copies everything readable into a new file."
        )

    def _on_banner_recover_requested(self) -> None:
        box = QMessageBox(self._window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Recover your history")
        box.setText("Recover your conversation history?")
        box.setInformativeText(ASK)
        cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(cancel)
        box.exec()
        if box.clickedButton() is cancel:
            return
        self._banner.set_busy(True)
        store = self._owner.store
        BackgroundOp(self, store.recover).success(self._on_recovered).failure(
            self._on_recover_failed
        ).run(self._owner)

    def _on_recovered(self, report: RecoveryReport) -> None:
        self._banner.set_busy(False)
        self._banner.hide()
        self._conversations.refresh()
        self.recovered.emit(report)
        QMessageBox.information(self._window, "Your history is recovered", report.describe())

    def _on_recover_failed(self, exc: Exception) -> None:
        self._banner.set_busy(False)
        self.error_raised.emit(exc, "Hearth could not recover your history")
