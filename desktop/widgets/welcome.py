"""The empty chat: what Hearth is in one sentence, three prompts to try, how the full assistant
would run on this computer, and the model that suits it with one button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop import theme

EXAMPLES = (
    "Explain how a heat pump works, simply.",
    "Write a Python function that checks if a word is a palindrome.",
    "Plan three vegetarian dinners for a busy week.",
)
LOCAL_ONLY = "Local-only: what you write stays on this computer, encrypted."


class WelcomeWidget(QWidget):
    example_chosen = Signal(str)
    get_model_requested = Signal(str)  # a catalog id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatColumn")
        self.mark_label = QLabel()
        self.mark_label.setAccessibleName("Hearth")
        self.title_label = QLabel("What can I help with?")
        self.title_label.setObjectName("welcomeTitle")
        self.local_label = QLabel(LOCAL_ONLY)
        self.local_label.setObjectName("hintLabel")
        self.local_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.example_buttons = []
        for text in EXAMPLES:
            button = QPushButton(text)
            button.setAccessibleName(f"Ask: {text}")
            button.clicked.connect(lambda _=False, t=text: self.example_chosen.emit(t))
            self.example_buttons.append(button)
        self.advice_label = QLabel()
        self.advice_label.setWordWrap(True)
        self.advice_label.setTextFormat(Qt.TextFormat.PlainText)
        self.advice_label.setAccessibleName("Welcome")
        self.get_button = QPushButton()
        self.get_button.setProperty("role", "primary")
        self.get_button.hide()
        self.get_button.clicked.connect(self._on_get_button_clicked)
        self._model_id = ""

        column = QWidget()
        column.setMaximumWidth(theme.em(self, theme.READING_WIDTH / 17))
        layout = QVBoxLayout(column)
        layout.setSpacing(theme.em(self, 0.6))
        layout.addStretch(1)
        layout.addWidget(self.mark_label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.title_label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.local_label, 0, Qt.AlignmentFlag.AlignHCenter)
        for button in self.example_buttons:
            layout.addWidget(button)
        layout.addSpacing(theme.em(self, 0.6))
        layout.addWidget(self.advice_label)
        layout.addWidget(self.get_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(2)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(column, 100)
        outer.addStretch(1)
        size = theme.em(self, 2.2)
        self.mark_label.setPixmap(theme.icon("hearth", theme.tokens().accent).pixmap(size, size))

    def set_advice(self, text: str) -> None:
        """The advice lines (the greeting is the title above, so its line is left out)."""
        lines = text.split("\n\n")
        self.advice_label.setText("\n\n".join(lines[1:]))
        self.advice_label.setVisible(len(lines) > 1)

    def offer_model(self, model_id: str, label: str, size: str) -> None:
        """One button for the model that suits this computer (empty ``model_id``: none)."""
        self._model_id = model_id
        self.get_button.setText(f"Get {label} ({size})" if size else f"Get {label}")
        self.get_button.setAccessibleName(self.get_button.text())
        self.get_button.setVisible(bool(model_id))

    def _on_get_button_clicked(self) -> None:
        if self._model_id:
            self.get_model_requested.emit(self._model_id)
