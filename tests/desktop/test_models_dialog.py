"""The model manager dialog, offscreen, against real files and a real loopback server."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

import engine.policy
from desktop import theme
from desktop.dialogs.models_dialog import ModelsDialog
from desktop.widgets.model_card import MEASURING, ModelCard
from engine.catalog import Catalog, load_catalog
from engine.catalog.download import partial_path
from engine.catalog.hardware import GB_S, GIB, Backend, Hardware
from engine.catalog.plan import format_size
from engine.paths import models_dir
from engine.policy import Mode
from tests.engine.catalog._gguf_files import write_gguf
from tests.engine.catalog._serve import range_server

LAPTOP = Hardware(
    "CPU-only laptop, 8 GB", Backend.CPU, 4, 8 * GIB, 6 * GIB, ram_bandwidth=40 * GB_S
)
GPU_DESKTOP = Hardware(
    "RTX 4090 desktop, 64 GB RAM",
    Backend.CUDA,
    16,
    64 * GIB,
    58 * GIB,
    "NVIDIA GeForce RTX 4090",
    24 * GIB,
    23 * GIB,
    ram_bandwidth=80 * GB_S,
    gpu_bandwidth=1000 * GB_S,
)


class Person:
    """Answers the dialog's questions, and remembers them."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, _title: str, question: str) -> bool:
        self.asked.append(question)
        return self.answer


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def served(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    folder.mkdir()
    write_gguf(folder / "tiny.gguf", tensor_bytes=2 << 20)
    return folder


def with_tiny(catalog: Catalog, url: str, source: Path) -> Catalog:
    tiny = dataclasses.replace(
        catalog.default,
        id="tiny-test",
        name="Tiny",
        quantization="F16",
        file="tiny.gguf",
        urls=(url,),
        size=source.stat().st_size,
        approx_size=0,
        source="",
        sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
    )
    return dataclasses.replace(catalog, models=(*catalog.models, tiny))


def make_dialog(
    qtbot, catalog: Catalog, person: Person, hardware: Hardware | None = LAPTOP
) -> ModelsDialog:
    dialog = ModelsDialog(catalog, hardware, confirm=person)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def click(qtbot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def choose(qtbot, dialog: ModelsDialog, key: str) -> ModelCard:
    """Scroll to the card of ``key`` and click it, as a person would."""
    card = dialog.card(key)
    dialog.card_scroll.ensureWidgetVisible(card)
    QApplication.processEvents()
    click(qtbot, card)
    assert dialog.selected_id() == key and card.is_selected()
    return card


def cut_labels(dialog: ModelsDialog) -> list[str]:
    """Every card label whose text does not fit the space it has: a one-line label narrower
    than its text, or a wrapped one shorter than its lines, or one past its card's edge."""
    QApplication.processEvents()
    viewport = dialog.card_scroll.viewport()
    cut = []
    for key in dialog.card_keys():
        card = dialog.card(key)
        for label in card.labels():
            if label.wordWrap():
                short = label.height() < label.heightForWidth(label.width())
            else:
                short = label.width() < label.fontMetrics().horizontalAdvance(label.text())
            right = label.mapTo(card, label.rect().topRight()).x()
            shown = label.mapTo(viewport, label.rect().topRight()).x() < viewport.width()
            if short or right > card.contentsRect().right() or not shown:
                cut.append(f"{key}: {label.text()!r} ({label.width()} px)")
    return cut


def test_lists_models_with_installed_state_and_fit(
    qtbot, catalog: Catalog, starter_model_path: Path
):
    dialog = make_dialog(qtbot, catalog, Person(True))
    assert dialog.card_keys() == [m.id for m in catalog.everything]
    name, quant, state, details, verdict, fit = dialog.row_texts(catalog.default_id)
    assert (name, quant, state) == ("SmolLM2 135M Instruct", "Q4_1", "Ships with Hearth")
    assert details == "135M parameters · 98 MB, part of Hearth"
    assert verdict == "CPU only"
    assert fit.startswith("fits in RAM, ~") and fit.endswith("tokens/s (estimate)")
    assert dialog.row_texts("qwq-32b-q4_k_m")[:4] == [
        "QwQ-32B",
        "Q4_K_M",
        "Not installed",
        "32.8B parameters · reasoning · download about 19.9 GB",
    ]
    assert dialog.row_texts("qwq-32b-q4_k_m")[4:] == [
        "Does not fit",
        dialog.row_texts("qwq-32b-q4_k_m")[5],
    ]
    assert dialog.row_texts("qwq-32b-q4_k_m")[5].startswith("needs ~")
    # No size is made up: the catalog has none for this one, and the card says so.
    assert "no download address yet" in dialog.row_texts("qwen3-8b-q4_k_m")[3]
    assert dialog.row_texts("deepseek-r1-distill-qwen-7b-q4_k_m")[:2] == [
        "DeepSeek-R1-Distill-Qwen 7B",
        "Q4_K_M",
    ]
    choose(qtbot, dialog, catalog.default_id)
    assert not dialog.download_button.isEnabled() and not dialog.remove_button.isEnabled()
    choose(qtbot, dialog, "qwq-32b-q4_k_m")
    assert dialog.download_button.isEnabled() and not dialog.remove_button.isEnabled()
    assert not dialog.card(catalog.default_id).is_selected()
    # The embedding model is listed last, for what it does, downloadable like the others;
    # no chat fit is shown for it.
    (embedding,) = catalog.embedders
    name, quant, state, details, verdict, _fit = dialog.row_texts(embedding.id)
    assert (name, quant, state, verdict) == ("Nomic Embed Text v1.5", "Q8_0", "Not installed", "")
    assert "embedding model for searching your documents by meaning" in details
    choose(qtbot, dialog, embedding.id)
    assert dialog.download_button.isEnabled()


@pytest.mark.parametrize("hardware", [LAPTOP, GPU_DESKTOP, None], ids=["cpu", "gpu", "measuring"])
@pytest.mark.parametrize("width", [None, 700], ids=["default-width", "narrow"])
def test_cards_show_every_text_whole(
    qtbot, catalog: Catalog, hardware: Hardware | None, width: int | None
):
    dialog = make_dialog(qtbot, catalog, Person(True), hardware)
    if width is not None:
        dialog.resize(width, dialog.height())
    assert cut_labels(dialog) == []
    chat = {m.id for m in catalog.models}
    kinds = {dialog.row_texts(key)[4] for key in dialog.card_keys() if key in chat}
    if hardware is GPU_DESKTOP:
        assert kinds == {"Fits on the GPU", "Partly on the GPU"}
    elif hardware is LAPTOP:
        assert kinds == {"CPU only", "Does not fit"}
    else:
        assert kinds == {MEASURING}
        assert dialog.hardware_label.text() == "Measuring this computer…"


def test_the_verdict_is_coloured_by_kind(qtbot, catalog: Catalog):
    dialog = make_dialog(qtbot, catalog, Person(True), GPU_DESKTOP)
    t = theme.tokens()
    colours = {
        dialog.row_texts(key)[4]: dialog.card(key)
        .fit_label.palette()
        .color(QPalette.ColorRole.WindowText)
        .name()
        for key in dialog.card_keys()
    }
    assert colours["Partly on the GPU"] == t.warning
    assert colours["Fits on the GPU"] == t.text
    laptop = make_dialog(qtbot, catalog, Person(True), LAPTOP)
    card = laptop.card("qwq-32b-q4_k_m")
    assert card.fit_label.palette().color(QPalette.ColorRole.WindowText).name() == t.danger
    assert not card.fit_icon.pixmap().isNull()


@pytest.fixture
def look(restore_look: None):
    """Lets a test choose light or dark; the test app's look is put back afterwards."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return lambda scheme: theme.choose(app, scheme)


def test_the_cards_follow_a_change_to_dark(qtbot, catalog: Catalog, look):
    look("light")
    dialog = make_dialog(qtbot, catalog, Person(True), LAPTOP)
    card = dialog.card("qwq-32b-q4_k_m")

    def verdict_colour() -> str:
        return card.fit_label.palette().color(QPalette.ColorRole.WindowText).name()

    assert verdict_colour() == theme.LIGHT.danger
    look("dark")
    qtbot.waitUntil(lambda: verdict_colour() == theme.DARK.danger)
    assert theme.DARK.raised in dialog.styleSheet()
    assert cut_labels(dialog) == []


def test_the_fit_is_measuring_until_set_hardware(qtbot, catalog: Catalog):
    dialog = make_dialog(qtbot, catalog, Person(True), None)
    choose(qtbot, dialog, "qwq-32b-q4_k_m")
    assert dialog.row_texts(catalog.default_id)[4:] == [MEASURING, ""]
    dialog.set_hardware(LAPTOP)
    assert dialog.row_texts(catalog.default_id)[4] == "CPU only"
    assert "tokens/s" in dialog.row_texts(catalog.default_id)[-1]
    assert "no GPU Hearth can use" in dialog.hardware_label.text()
    assert dialog.selected_id() == "qwq-32b-q4_k_m"  # the cards were updated, not replaced


def test_up_and_down_move_between_cards(qtbot, catalog: Catalog):
    dialog = make_dialog(qtbot, catalog, Person(True))
    first, second = dialog.card_keys()[:2]
    choose(qtbot, dialog, first)
    qtbot.keyClick(dialog.card(first), Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: dialog.selected_id() == second)
    qtbot.keyClick(dialog.card(second), Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: dialog.selected_id() == first)


def test_the_download_question_names_the_size(qtbot, catalog: Catalog):
    unknown = dataclasses.replace(catalog.get("qwen3-32b-q4_k_m"), approx_size=0)
    test_catalog = dataclasses.replace(
        catalog,
        models=tuple(unknown if m.id == unknown.id else m for m in catalog.models),
    )
    person = Person(False)
    dialog = make_dialog(qtbot, test_catalog, person)
    choose(qtbot, dialog, "qwq-32b-q4_k_m")
    click(qtbot, dialog.download_button)
    assert person.asked[-1].startswith(
        "Download QwQ-32B Q4_K_M (about 19.9 GB) from huggingface.co?"
    )
    assert "Local-only mode is on" in person.asked[-1]
    assert dialog.status.text() == "Nothing was downloaded."
    # Where models.toml has no size, the question says so instead of guessing one.
    choose(qtbot, dialog, unknown.id)
    click(qtbot, dialog.download_button)
    assert person.asked[-1].startswith(f"Download {unknown.label} (size not known) from ")
    assert "download size not known" in dialog.row_texts(unknown.id)[3]


def test_download_with_progress_then_remove_with_confirmation(
    qtbot, catalog: Catalog, served: Path
):
    person = Person(True)
    with range_server(served, "--delay", "0.005") as server:
        test_catalog = with_tiny(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        dialog = make_dialog(qtbot, test_catalog, person)
        choose(qtbot, dialog, "tiny-test")
        assert dialog.download_button.isEnabled()
        seen: list[int] = []
        dialog.progress.valueChanged.connect(seen.append)
        click(qtbot, dialog.download_button)
        size = format_size((served / "tiny.gguf").stat().st_size)
        assert person.asked[0].startswith(f"Download Tiny F16 ({size}) from 127.0.0.1?")
        assert "Local-only mode is on" in person.asked[0]
        assert dialog.progress_widget.parent() is dialog.card("tiny-test")
        qtbot.waitUntil(lambda: dialog.row_texts("tiny-test")[2] == "Installed", timeout=20000)
    assert dialog.status.text() == "Downloaded and verified."
    assert seen and max(seen) == 1000
    assert not dialog.progress_widget.isVisible()
    assert dialog.row_texts("tiny-test")[3].endswith(" on disk")
    assert (models_dir() / "tiny.gguf").read_bytes() == (served / "tiny.gguf").read_bytes()
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY

    choose(qtbot, dialog, "tiny-test")
    person.answer = False
    click(qtbot, dialog.remove_button)
    assert "Remove Tiny F16?" in person.asked[-1] and "tiny.gguf" in person.asked[-1]
    assert dialog.status.text() == "Nothing was removed."
    assert (models_dir() / "tiny.gguf").exists()
    person.answer = True
    click(qtbot, dialog.remove_button)
    assert not (models_dir() / "tiny.gguf").exists()
    assert dialog.row_texts("tiny-test")[2] == "Not installed"
    assert dialog.status.text().startswith("Removed Tiny F16;")


def test_progress_shows_speed_and_time_left_and_cancel_stops(qtbot, catalog: Catalog, served: Path):
    person = Person(True)
    with range_server(served, "--delay", "0.1") as server:
        test_catalog = with_tiny(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        dialog = make_dialog(qtbot, test_catalog, person)
        choose(qtbot, dialog, "tiny-test")
        click(qtbot, dialog.download_button)
        detail = dialog.progress_widget.detail_label
        qtbot.waitUntil(
            lambda: (
                re.fullmatch(r".+ of .+ · \d+\.\d MB/s · about \d+ s left", detail.text())
                is not None
            ),
            timeout=10000,
        )
        card = dialog.card("tiny-test")
        assert dialog.progress_widget.parent() is card and dialog.progress_widget.isVisible()
        assert dialog.cancel_button.isVisible() and dialog.cancel_button.isEnabled()
        assert not dialog.download_button.isEnabled() and not dialog.import_button.isEnabled()
        assert cut_labels(dialog) == []
        click(qtbot, dialog.cancel_button)
        qtbot.waitUntil(lambda: dialog.status.text().startswith("Stopped."), timeout=10000)
        asked_for = len(server.requests())
    assert dialog.row_texts("tiny-test")[2] == "Partly downloaded"
    part = partial_path(test_catalog.get("tiny-test")).stat().st_size
    assert 0 < part < (served / "tiny.gguf").stat().st_size
    assert f"{format_size(part)} of " in dialog.row_texts("tiny-test")[3]
    assert not dialog.cancel_button.isEnabled() and not dialog.progress_widget.isVisible()
    assert dialog.download_button.isEnabled()
    assert dialog.download_button.text() == "Resume download"
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY
    assert asked_for == 1
    person.answer = False
    click(qtbot, dialog.download_button)
    assert f"{format_size(part)} of it is here already" in person.asked[-1]


def test_declining_the_download_sends_nothing(qtbot, catalog: Catalog, served: Path):
    with range_server(served) as server:
        dialog = make_dialog(
            qtbot, with_tiny(catalog, server.url("tiny.gguf"), served / "tiny.gguf"), Person(False)
        )
        choose(qtbot, dialog, "tiny-test")
        click(qtbot, dialog.download_button)
        assert server.requests() == []
    assert dialog.status.text() == "Nothing was downloaded."


def test_offer_download_chooses_the_model_and_asks_the_same_question(
    qtbot, catalog: Catalog, served: Path
):
    person = Person(True)
    with range_server(served) as server:
        dialog = make_dialog(
            qtbot, with_tiny(catalog, server.url("tiny.gguf"), served / "tiny.gguf"), person
        )
        assert dialog.offer_download("tiny-test") is True
        assert dialog.selected_id() == "tiny-test"
        assert person.asked[-1].startswith("Download Tiny F16 (")
        qtbot.waitUntil(lambda: dialog.row_texts("tiny-test")[2] == "Installed", timeout=20000)
        assert dialog.offer_download("tiny-test") is False  # nothing to do twice
        assert dialog.status.text() == "Tiny F16 is already installed."
    person.answer = False
    assert dialog.offer_download("qwq-32b-q4_k_m") is False
    assert person.asked[-1].startswith("Download QwQ-32B Q4_K_M (about 19.9 GB)")
    assert dialog.selected_id() == "qwq-32b-q4_k_m"
    assert len(person.asked) == 2
    with pytest.raises(KeyError):
        dialog.offer_download("no-such-model")


_KEEP: list[QMimeData] = []  # a drag event does not own its mime data: keep it alive


def _drag(kind, path: Path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    _KEEP.append(mime)
    return kind(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )


def test_dropping_a_gguf_imports_it(qtbot, catalog: Catalog, tmp_path: Path):
    source = write_gguf(tmp_path / "dropped.gguf")
    dialog = make_dialog(qtbot, catalog, Person(True))
    # Offscreen Qt delivers no synthetic drop through the event loop (no drag manager runs),
    # so the dialog's handlers get real drag events directly.
    other = tmp_path / "notes.txt"
    other.write_text("not a model")
    refused = _drag(QDragEnterEvent, other)
    dialog.dragEnterEvent(refused)
    assert not refused.isAccepted()
    enter = _drag(QDragEnterEvent, source)
    dialog.dragEnterEvent(enter)
    assert enter.isAccepted()
    dialog.dropEvent(_drag(QDropEvent, source))
    qtbot.waitUntil(lambda: "dropped.gguf" in dialog.card_keys(), timeout=10000)
    assert dialog.row_texts("dropped.gguf")[2] == "Installed (not in the catalog)"
    assert "Imported dropped.gguf (not in the catalog)." in dialog.status.text()
    assert (models_dir() / "dropped.gguf").read_bytes() == source.read_bytes()


def test_an_unsafe_import_shows_the_reason(qtbot, catalog: Catalog, tmp_path: Path):
    evil = write_gguf(tmp_path / "evil.gguf", chat_template="{{ ''.__class__ }}")
    dialog = make_dialog(qtbot, catalog, Person(True))
    dialog.import_file(evil)
    qtbot.waitUntil(
        lambda: dialog.findChild(QMessageBox, "error_dialog") is not None, timeout=10000
    )
    box = dialog.findChild(QMessageBox, "error_dialog")
    assert "tries to reach Python internals" in box.text()
    assert not (models_dir() / "evil.gguf").exists()
