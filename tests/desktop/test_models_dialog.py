"""The model manager dialog, offscreen, against real files and a real loopback server."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMessageBox

import engine.policy
from desktop.dialogs.models_dialog import ModelsDialog
from engine.catalog import Catalog, load_catalog
from engine.catalog.download import partial_path
from engine.catalog.hardware import GB_S, GIB, Backend, Hardware
from engine.paths import models_dir
from engine.policy import Mode
from tests.engine.catalog._gguf_files import write_gguf
from tests.engine.catalog._serve import range_server

LAPTOP = Hardware(
    "CPU-only laptop, 8 GB", Backend.CPU, 4, 8 * GIB, 6 * GIB, ram_bandwidth=40 * GB_S
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


def make_dialog(qtbot, catalog: Catalog, person: Person) -> ModelsDialog:
    dialog = ModelsDialog(catalog, LAPTOP, confirm=person)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_lists_models_with_installed_state_and_fit(
    qtbot, catalog: Catalog, starter_model_path: Path
):
    dialog = make_dialog(qtbot, catalog, Person(True))
    assert dialog.table.rowCount() == len(catalog.models)
    starter = dialog.row_texts(catalog.default_id)
    assert starter[0] == "SmolLM2 135M Instruct Q4_1"
    assert starter[1] == "Installed (ships with Hearth)"
    assert starter[3].startswith("fits in RAM, CPU only, ~")
    assert starter[3].endswith("tokens/s (estimate)")
    assert dialog.row_texts("qwq-32b-q4_k_m")[1:] == [
        "Not installed",
        "",
        dialog.row_texts("qwq-32b-q4_k_m")[3],
    ]
    assert dialog.row_texts("qwq-32b-q4_k_m")[3].startswith("does not fit: needs ~")
    dialog.select(catalog.default_id)
    assert not dialog.download_button.isEnabled() and not dialog.remove_button.isEnabled()


def test_download_with_progress_then_remove_with_confirmation(
    qtbot, catalog: Catalog, served: Path
):
    person = Person(True)
    with range_server(served, "--delay", "0.005") as server:
        dialog = make_dialog(
            qtbot, with_tiny(catalog, server.url("tiny.gguf"), served / "tiny.gguf"), person
        )
        dialog.select("tiny-test")
        assert dialog.download_button.isEnabled()
        seen: list[int] = []
        dialog.progress.valueChanged.connect(seen.append)
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        assert "Local-only mode is on" in person.asked[0]
        qtbot.waitUntil(lambda: dialog.row_texts("tiny-test")[1] == "Installed", timeout=20000)
    assert dialog.status.text() == "Downloaded and verified."
    assert seen and max(seen) == 1000
    assert (models_dir() / "tiny.gguf").read_bytes() == (served / "tiny.gguf").read_bytes()
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY

    dialog.select("tiny-test")
    person.answer = False
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert "Remove Tiny F16?" in person.asked[-1] and "tiny.gguf" in person.asked[-1]
    assert dialog.status.text() == "Nothing was removed."
    assert (models_dir() / "tiny.gguf").exists()
    person.answer = True
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert not (models_dir() / "tiny.gguf").exists()
    assert dialog.row_texts("tiny-test")[1] == "Not installed"
    assert dialog.status.text().startswith("Removed Tiny F16;")


def test_stop_download_keeps_the_partial_file(qtbot, catalog: Catalog, served: Path):
    with range_server(served, "--delay", "0.05") as server:
        test_catalog = with_tiny(catalog, server.url("tiny.gguf"), served / "tiny.gguf")
        dialog = make_dialog(qtbot, test_catalog, Person(True))
        dialog.select("tiny-test")
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: " MB/s" in dialog.status.text(), timeout=10000)
        assert dialog.cancel_button.isEnabled()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.status.text().startswith("Stopped."), timeout=10000)
    assert dialog.row_texts("tiny-test")[1].startswith("Partly downloaded")
    assert partial_path(test_catalog.get("tiny-test")).stat().st_size > 0
    assert not dialog.cancel_button.isEnabled() and dialog.download_button.isEnabled()
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY


def test_declining_the_download_sends_nothing(qtbot, catalog: Catalog, served: Path):
    with range_server(served) as server:
        dialog = make_dialog(
            qtbot, with_tiny(catalog, server.url("tiny.gguf"), served / "tiny.gguf"), Person(False)
        )
        dialog.select("tiny-test")
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        assert server.requests() == []
    assert dialog.status.text() == "Nothing was downloaded."


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
    qtbot.waitUntil(lambda: "dropped.gguf" in dialog._row_ids, timeout=10000)
    assert dialog.row_texts("dropped.gguf")[1] == "Installed (not in the catalog)"
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
