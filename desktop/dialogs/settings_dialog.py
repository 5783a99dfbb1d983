"""Settings, on three pages: General (the open conversation's system prompt, every
conversation's, the look, the app lock), Model (sampling and thinking budget for the next
replies, how the next model load goes) and History (backup, restore, export).

The dialog edits values only; the window keeps them (in the encrypted store, the passcode as a
hash in its own file) and applies them. The History page acts at once instead (see
desktop.records_flow).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.dialogs.history_page import HistoryPage
from desktop.settings import TEXT_SIZES, AppSettings
from engine.catalog import Reasoning, Sampling


def _double(
    name: str, low: float, high: float, step: float, *, default: float, value: float | None
) -> QDoubleSpinBox:
    """A spin box whose lowest value (one step below ``low``) means "the model's default"."""
    box = QDoubleSpinBox()
    box.setDecimals(2)
    box.setRange(low - step, high)
    box.setSingleStep(step)
    box.setSpecialValueText(f"Model default ({default:g})")
    box.setValue(low - step if value is None else value)
    box.setAccessibleName(name)
    return box


def _int(name: str, low: int, high: int, special: str, value: int | None) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low - 1, high)
    box.setSpecialValueText(special)
    box.setValue(low - 1 if value is None else value)
    box.setAccessibleName(name)
    return box


def _value(box: QDoubleSpinBox | QSpinBox) -> float | int | None:
    return None if box.value() == box.minimum() else box.value()


class SettingsDialog(QDialog):
    """``system_prompt`` is None when no conversation is open (there is nothing to give one
    to yet). ``sampling``/``reasoning`` are the loaded model's defaults, shown as such.
    ``history_saved`` is False for a history kept in memory only (nothing to back up);
    ``conversation_open`` offers exporting the open conversation alone."""

    def __init__(
        self,
        settings: AppSettings,
        *,
        system_prompt: str | None,
        sampling: Sampling,
        reasoning: Reasoning | None,
        has_passcode: bool,
        history_saved: bool = True,
        conversation_open: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settings_dialog")
        self.setMinimumWidth(theme.em(self, 34))  # the History page reads better wider

        self.system_prompt_edit = QPlainTextEdit(system_prompt or "")
        self.system_prompt_edit.setAccessibleName("System prompt of this conversation")
        self.system_prompt_edit.setPlaceholderText(
            "How the assistant should answer in this conversation, e.g. “Be brief.”"
            if system_prompt is not None
            else "No conversation is open."
        )
        self.system_prompt_edit.setEnabled(system_prompt is not None)
        self.system_prompt_edit.setMaximumHeight(theme.em(self, 5))
        prompt_box = QGroupBox("This conversation")
        QVBoxLayout(prompt_box).addWidget(self.system_prompt_edit)
        self.default_prompt_edit = QPlainTextEdit(settings.system_prompt)
        self.default_prompt_edit.setAccessibleName("System prompt for new conversations")
        self.default_prompt_edit.setPlaceholderText(
            "How the assistant should answer in every new conversation (each can change it)."
        )
        self.default_prompt_edit.setMaximumHeight(theme.em(self, 4))
        self.theme_combo = QComboBox()
        self.theme_combo.setAccessibleName("Theme")
        for label, value in (("System", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme_combo.addItem(label, value)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(settings.theme)))
        self.text_size_combo = QComboBox()
        self.text_size_combo.setAccessibleName("Text size")
        for size in TEXT_SIZES:
            self.text_size_combo.addItem(f"{size} %", size)
        self.text_size_combo.setCurrentIndex(
            max(0, self.text_size_combo.findData(settings.text_size))
        )
        general_box = QGroupBox("Every conversation")
        form = QFormLayout(general_box)
        form.addRow("System prompt", self.default_prompt_edit)
        form.addRow("Theme", self.theme_combo)
        form.addRow("Text size", self.text_size_combo)

        s = settings
        self.temperature_spin = _double(
            "Temperature", 0.0, 2.0, 0.05, default=sampling.temperature, value=s.temperature
        )
        self.top_p_spin = _double("Top P", 0.0, 1.0, 0.05, default=sampling.top_p, value=s.top_p)
        self.top_k_spin = _int("Top K", 0, 200, f"Model default ({sampling.top_k})", s.top_k)
        self.repeat_penalty_spin = _double(
            "Repeat penalty",
            1.0,
            2.0,
            0.05,
            default=sampling.repeat_penalty,
            value=s.repeat_penalty,
        )
        budget = reasoning.budget if reasoning else 0
        self.budget_spin = _int(
            "Thinking budget",
            1,
            65536,
            f"Model default ({budget} tokens)" if reasoning else "Model default",
            s.thinking_budget,
        )
        self.budget_spin.setSuffix(" tokens")
        sampling_box = QGroupBox("Replies (from the next one)")
        form = QFormLayout(sampling_box)
        form.addRow("Temperature", self.temperature_spin)
        form.addRow("Top P", self.top_p_spin)
        form.addRow("Top K", self.top_k_spin)
        form.addRow("Repeat penalty", self.repeat_penalty_spin)
        form.addRow("Thinking budget", self.budget_spin)

        self.context_spin = _int("Context size", 512, 131072, "Automatic", s.n_ctx)
        self.context_spin.setSingleStep(1024)
        self.context_spin.setSuffix(" tokens")
        self.threads_spin = _int("Threads", 1, 256, "Automatic", s.threads)
        self.gpu_mode_combo = QComboBox()
        self.gpu_mode_combo.setAccessibleName("GPU layers: automatic or manual")
        self.gpu_mode_combo.addItem("Automatic", "auto")
        self.gpu_mode_combo.addItem("Manual", "manual")
        self.gpu_layers_spin = QSpinBox()
        self.gpu_layers_spin.setRange(0, 999)
        self.gpu_layers_spin.setAccessibleName("GPU layers")
        manual = s.gpu_layers is not None
        self.gpu_mode_combo.setCurrentIndex(1 if manual else 0)
        self.gpu_layers_spin.setValue(s.gpu_layers or 0)
        self.gpu_layers_spin.setEnabled(manual)
        self.gpu_mode_combo.currentIndexChanged.connect(self._on_gpu_mode_combo_changed)
        load_box = QGroupBox("Loading a model (from the next load)")
        form = QFormLayout(load_box)
        form.addRow("Context size", self.context_spin)
        form.addRow("Threads", self.threads_spin)
        form.addRow("GPU layers", self.gpu_mode_combo)
        form.addRow("", self.gpu_layers_spin)

        self.passcode_edit = QLineEdit()
        self.passcode_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passcode_edit.setAccessibleName("New app-lock passcode")
        self.passcode_edit.setPlaceholderText(
            "Leave empty to keep the current one" if has_passcode else "No passcode set"
        )
        self.repeat_edit = QLineEdit()
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_edit.setAccessibleName("Repeat the new passcode")
        self.remove_passcode_check = QCheckBox("Remove the passcode")
        self.remove_passcode_check.setEnabled(has_passcode)
        self.idle_spin = QSpinBox()
        self.idle_spin.setRange(0, 24 * 60)
        self.idle_spin.setSpecialValueText("Never")
        self.idle_spin.setSuffix(" min")
        self.idle_spin.setValue(s.lock_idle_minutes)
        self.idle_spin.setAccessibleName("Lock after idle minutes")
        self.error_label = QLabel()
        self.error_label.setAccessibleName("Settings problem")
        self.error_label.hide()
        lock_box = QGroupBox("App lock (Ctrl+L locks now)")
        form = QFormLayout(lock_box)
        form.addRow("Passcode", self.passcode_edit)
        form.addRow("Repeat", self.repeat_edit)
        form.addRow("", self.remove_passcode_check)
        form.addRow("Lock when idle for", self.idle_spin)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.history_page = HistoryPage(saved=history_saved, conversation_open=conversation_open)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for title, boxes in (
            ("General", (prompt_box, general_box, lock_box)),
            ("Model", (sampling_box, load_box)),
        ):
            page = QWidget()
            column = QVBoxLayout(page)
            for box in boxes:
                column.addWidget(box)
            column.addStretch(1)
            self.tabs.addTab(page, title)
        self.tabs.addTab(self.history_page, "History")
        layout = QVBoxLayout(self)
        for w in (self.tabs, self.error_label, self.buttons):
            layout.addWidget(w)

    def settings(self) -> AppSettings:
        gpu = (
            self.gpu_layers_spin.value() if self.gpu_mode_combo.currentData() == "manual" else None
        )
        return AppSettings(
            temperature=_value(self.temperature_spin),
            top_p=_value(self.top_p_spin),
            top_k=_value(self.top_k_spin),  # type: ignore[arg-type]
            repeat_penalty=_value(self.repeat_penalty_spin),
            thinking_budget=_value(self.budget_spin),  # type: ignore[arg-type]
            n_ctx=_value(self.context_spin),  # type: ignore[arg-type]
            threads=_value(self.threads_spin),  # type: ignore[arg-type]
            gpu_layers=gpu,
            lock_idle_minutes=self.idle_spin.value(),
            system_prompt=self.default_prompt_edit.toPlainText().strip(),
            theme=self.theme_combo.currentData(),
            text_size=self.text_size_combo.currentData(),
        )

    def system_prompt(self) -> str | None:
        """The new system prompt, or None when no conversation is open."""
        if not self.system_prompt_edit.isEnabled():
            return None
        return self.system_prompt_edit.toPlainText().strip()

    def passcode_change(self) -> str | None:
        """None: keep as it is; "": remove; otherwise the new passcode (hashed by the
        caller, never kept)."""
        if self.remove_passcode_check.isChecked():
            return ""
        return self.passcode_edit.text() or None

    def accept(self) -> None:
        if (
            not self.remove_passcode_check.isChecked()
            and self.passcode_edit.text() != self.repeat_edit.text()
        ):
            self.error_label.setText("The two passcodes differ.")
            self.error_label.show()
            self.tabs.setCurrentIndex(0)  # where the passcode fields are
            return
        super().accept()

    def _on_gpu_mode_combo_changed(self, _index: int) -> None:
        self.gpu_layers_spin.setEnabled(self.gpu_mode_combo.currentData() == "manual")
