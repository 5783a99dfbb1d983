"""One model in the Models dialog, as a card: its name and whether it is installed, its
parameters, quantization and sizes, and whether it fits this computer (in colour, with an
icon, so the verdict does not rest on colour alone). A running download's progress sits in
the card of the model being downloaded (``DownloadProgressWidget``).

Every text wraps or is short enough not to be cut: nothing is elided.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from engine.catalog.display import FitText
from engine.catalog.fit import FitKind

MEASURING = "Measuring…"
# The icon beside each verdict: the colour is never the only sign.
_FIT_ICONS = {
    FitKind.GPU: "check",
    FitKind.PARTIAL: "fit-partial",
    FitKind.CPU: "cpu",
    FitKind.NO_FIT: "no-fit",
}


def fit_colors(kind: FitKind | None, t: theme.Tokens) -> tuple[str, str]:
    """(icon colour, text colour) of a verdict. Colour marks what needs attention: warning
    when only part fits the GPU, danger when it does not fit; a verdict that runs well keeps
    the text colour, its icon in the accent when it all fits on the GPU. (Accent and danger
    are close hues in both schemes, so the accent never colours words beside a danger.)"""
    if kind is FitKind.GPU:
        return t.accent, t.text
    if kind is FitKind.CPU:
        return t.muted, t.text
    if kind is FitKind.PARTIAL:
        return t.warning, t.warning
    if kind is FitKind.NO_FIT:
        return t.danger, t.danger
    return t.muted, t.muted


def stylesheet(t: theme.Tokens, font_px: int) -> str:
    """The cards' look (the dialog sets it; the app stylesheet has no card role yet)."""

    def px(em: float) -> str:
        return f"{max(1, round(em * font_px))}px"

    trough = QColor(t.muted)
    trough.setAlphaF(0.3)  # shows on a card and on a chosen card, light or dark
    trough_css = f"rgba({trough.red()}, {trough.green()}, {trough.blue()}, 30%)"

    return f"""
#modelCard {{ background: {t.raised}; border: 1px solid {t.border};
    border-radius: {px(theme.RADIUS["medium"])}; }}
#modelCard:hover {{ border-color: {t.muted}; }}
#modelCard[selected="true"] {{ background: {t.selected}; border-color: {t.accent}; }}
#modelCard QLabel {{ background: transparent; border: none; }}
#modelName {{ font-weight: 600; }}
#modelQuant {{ color: {t.muted}; }}
#modelBadge {{ color: {t.accent}; font-weight: 600; }}
#downloadProgress QProgressBar {{ background: {trough_css}; border: none;
    border-radius: {px(0.2)}; max-height: {px(0.4)}; min-height: {px(0.4)}; }}
#downloadProgress QProgressBar::chunk {{ background: {t.accent}; border-radius: {px(0.2)}; }}
"""


@dataclass(frozen=True)
class CardContent:
    """What a card shows. ``fit`` None with ``measuring`` True: the computer is still being
    measured; None without: no verdict applies (an imported file the catalog does not know)."""

    name: str
    quantization: str  # "Q4_K_M"; "" for an imported file the catalog does not know
    state: str  # "Installed", "Not installed", …
    details: str  # "32.8B parameters · reasoning · download about 19.9 GB"
    fit: FitText | None
    measuring: bool = False
    badge: str = ""  # "Best for this computer"
    installed: bool = False


def _label(object_name: str, *, wrap: bool = False) -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.PlainText)  # names and notes are data, never markup
    if wrap:
        label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return label


class DownloadProgressWidget(QWidget):
    """A running job's progress: a slim bar, what is done (size, speed, time left) and
    Cancel. The dialog owns one and places it in the card being downloaded (or under the
    cards for an import)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("downloadProgress")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Download progress")
        self.detail_label = _label("statsLabel", wrap=True)
        self.detail_label.setAccessibleName("Download speed and time left")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel download")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.detail_label, 1)
        row.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, theme.em(self, 0.25), 0, 0)
        layout.setSpacing(theme.em(self, 0.25))
        layout.addWidget(self.bar)
        layout.addLayout(row)

    def start(self, text: str) -> None:
        self.bar.setValue(0)
        self.detail_label.setText(text)
        self.cancel_button.setEnabled(True)

    def set_fraction(self, fraction: float) -> None:
        self.bar.setValue(round(1000 * min(1.0, max(0.0, fraction))))

    def set_text(self, text: str) -> None:
        self.detail_label.setText(text)


class ModelCard(QFrame):
    """One model. Click it (or tab to it) to choose it; Up and Down move to the next card.
    ``key`` is the catalog id, or the file name of an imported model."""

    chosen = Signal(str)  # key
    stepped = Signal(str, int)  # key, -1 for Up, +1 for Down

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("modelCard")
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setProperty("selected", False)
        self._content: CardContent | None = None

        self.name_label = _label("modelName")
        self.quant_label = _label("modelQuant")
        self.badge_label = _label("modelBadge")
        self.state_icon = QLabel()
        self.state_label = _label("statsLabel")
        self.details_label = _label("modelDetails", wrap=True)
        self.fit_icon = QLabel()
        self.fit_label = _label("fitLabel")
        self.fit_detail_label = _label("statsLabel", wrap=True)

        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.name_label.setFont(font)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(theme.em(self, 0.5))
        top.addWidget(self.name_label)
        top.addWidget(self.quant_label)
        top.addWidget(self.badge_label)
        top.addStretch(1)
        top.addWidget(self.state_icon)
        top.addWidget(self.state_label)
        fit_row = QHBoxLayout()
        fit_row.setContentsMargins(0, 0, 0, 0)
        fit_row.setSpacing(theme.em(self, 0.35))
        fit_row.addWidget(self.fit_icon, 0, Qt.AlignmentFlag.AlignTop)
        fit_row.addWidget(self.fit_label, 0, Qt.AlignmentFlag.AlignTop)
        fit_row.addWidget(self.fit_detail_label, 1)
        self._layout = QVBoxLayout(self)
        pad = theme.em(self, 0.6)
        self._layout.setContentsMargins(pad, pad, pad, pad)
        self._layout.setSpacing(theme.em(self, 0.2))
        self._layout.addLayout(top)
        self._layout.addWidget(self.details_label)
        self._layout.addLayout(fit_row)

    # ---- what it shows --------------------------------------------------------------------

    def set_content(self, content: CardContent) -> None:
        self._content = content
        self.name_label.setText(content.name)
        self.quant_label.setText(content.quantization)
        self.badge_label.setText(content.badge)
        self.badge_label.setVisible(bool(content.badge))
        self.state_label.setText(content.state)
        self.details_label.setText(content.details)
        fit = content.fit
        if fit is not None:
            self.fit_label.setText(fit.verdict)
            self.fit_detail_label.setText(fit.detail)
        else:
            self.fit_label.setText(MEASURING if content.measuring else "")
            self.fit_detail_label.setText("")
        for w in (self.fit_icon, self.fit_label, self.fit_detail_label):
            w.setVisible(fit is not None or content.measuring)
        self.setAccessibleName(f"{content.name} {content.quantization}".strip())
        self.setAccessibleDescription(
            ". ".join(t for t in (content.state, content.details, *self._fit_words()) if t)
        )
        self.apply_look()

    def _fit_words(self) -> tuple[str, str]:
        return self.fit_label.text(), self.fit_detail_label.text()

    def texts(self) -> list[str]:
        """What the card says, part by part: name, quantization, state, details, verdict,
        fit detail."""
        return [
            self.name_label.text(),
            self.quant_label.text(),
            self.state_label.text(),
            self.details_label.text(),
            self.fit_label.text(),
            self.fit_detail_label.text(),
        ]

    def labels(self) -> list[QLabel]:
        """Every label with text that a person should be able to read in full."""
        return [
            label
            for label in (
                self.name_label,
                self.quant_label,
                self.badge_label,
                self.state_label,
                self.details_label,
                self.fit_label,
                self.fit_detail_label,
            )
            if label.text() and not label.isHidden()
        ]

    def set_selected(self, selected: bool) -> None:
        if self.property("selected") == selected:
            return
        self.setProperty("selected", selected)
        self.style().unpolish(self)
        self.style().polish(self)
        self.update()

    def is_selected(self) -> bool:
        return bool(self.property("selected"))

    def add_progress(self, widget: DownloadProgressWidget) -> None:
        """Show a running download in this card (the layout takes the widget over)."""
        self._layout.addWidget(widget)
        widget.show()

    def apply_look(self) -> None:
        """Icons and verdict colour for the current scheme (again after a theme change)."""
        t = theme.tokens()
        size = theme.em(self, 1.0)
        content = self._content
        kind = content.fit.kind if content and content.fit else None
        icon_color, text_color = fit_colors(kind, t)
        icon = _FIT_ICONS[kind] if kind is not None else "clock"
        self.fit_icon.setPixmap(theme.icon(icon, icon_color).pixmap(QSize(size, size)))
        self.fit_label.setStyleSheet(f"color: {text_color}; font-weight: 600;")
        installed = bool(content and content.installed)
        self.state_icon.setVisible(installed)
        if installed:
            self.state_icon.setPixmap(theme.icon("check", t.muted).pixmap(QSize(size, size)))

    # ---- choosing ---------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.chosen.emit(self.key)
        super().mousePressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.chosen.emit(self.key)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.stepped.emit(self.key, -1 if event.key() == Qt.Key.Key_Up else 1)
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_look()


__all__ = [
    "MEASURING",
    "CardContent",
    "DownloadProgressWidget",
    "ModelCard",
    "fit_colors",
    "stylesheet",
]
