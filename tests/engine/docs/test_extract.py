"""Reading files: each kind, and each way a file can be unreadable (a message, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest

from engine.docs import extract
from engine.docs.extract import DocumentProblem, read_pages
from tests._files import write_docx, write_pdf, write_scanned_pdf


def pages_of(path: Path) -> tuple[str, list[tuple[int, str]]]:
    kind, _count, pages = read_pages(path, path.read_bytes())
    return kind, [(p.number, p.text) for p in pages]


def test_every_kind_yields_its_text(folder: Path):
    assert pages_of(folder / "notes.md") == ("markdown", [(0, (folder / "notes.md").read_text())])
    kind, pages = pages_of(folder / "code" / "rent.py")
    assert kind == "code" and "def rent_due" in pages[0][1]
    kind, pages = pages_of(folder / "page.html")
    assert kind == "html"
    assert pages[0][1].startswith("Boiler")  # the title first
    assert "boiler service is every October" in pages[0][1]
    assert "scriptword" not in pages[0][1]  # scripts are not text
    kind, pages = pages_of(folder / "warranty.docx")
    assert kind == "docx" and "two years" in pages[0][1]


def test_pdf_pages_are_numbered(folder: Path):
    kind, pages = pages_of(folder / "lease.pdf")
    assert kind == "pdf"
    assert [n for n, _ in pages] == [1, 2, 3]
    assert "900 euros" in pages[1][1]


def test_word_tables_are_read(tmp_path: Path):
    path = write_docx(tmp_path / "t.docx", ["Prices"], [["item", "cost"], ["boiler", "250"]])
    assert "boiler | 250" in pages_of(path)[1][0][1]


def test_text_encodings(tmp_path: Path):
    latin = tmp_path / "old.txt"
    latin.write_bytes("café crème".encode("cp1252"))
    assert pages_of(latin)[1][0][1] == "café crème"
    utf16 = tmp_path / "wide.txt"
    utf16.write_text("über", encoding="utf-16")
    assert pages_of(utf16)[1][0][1] == "über"


def problem_of(path: Path) -> str:
    with pytest.raises(DocumentProblem) as info:
        pages_of(path)
    message = info.value.full_message
    assert "Error" not in message and "Traceback" not in message  # no class names
    assert path.name in message
    return message


def test_scanned_pdf_says_it_has_no_text(tmp_path: Path):
    assert "scanned" in problem_of(write_scanned_pdf(tmp_path / "scan.pdf"))


def test_password_protected_pdf(tmp_path: Path):
    plain = write_pdf(tmp_path / "plain.pdf", ["Secret salary figures."])
    writer = pypdf.PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="hunter2", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as f:
        writer.write(f)
    assert "password" in problem_of(locked)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("broken.pdf", b"%PDF-1.7\n" + b"\x8f" * 500, "not a readable PDF"),
        ("half.pdf", None, "not a readable PDF"),  # a real PDF cut in half
        ("broken.docx", b"PK\x03\x04garbage" * 20, "not a readable Word document"),
        ("old.docx", b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "old-format"),
        ("report.doc", b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "old-format Word file"),
        ("program", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 600, "not a text document"),
    ],
)
def test_damaged_files_get_a_message(tmp_path: Path, name: str, data: bytes | None, words: str):
    path = tmp_path / name
    if data is None:
        whole = write_pdf(tmp_path / "whole.pdf", ["one", "two"]).read_bytes()
        data = whole[: len(whole) // 2]
    path.write_bytes(data)
    assert words in problem_of(path)


def test_too_many_pages_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(extract, "MAX_PAGES", 2)
    assert "at most 2" in problem_of(write_pdf(tmp_path / "long.pdf", ["a", "b", "c"]))


def test_too_much_text_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(extract, "MAX_TEXT_CHARS", 100)
    path = tmp_path / "long.md"
    path.write_text("word " * 100)
    assert "more than 100 characters" in problem_of(path)
