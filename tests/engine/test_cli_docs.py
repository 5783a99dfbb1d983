"""``hearth docs`` and ``ask --library/--file``, run as a person would (child processes)."""

from __future__ import annotations

from pathlib import Path

from engine.storage import Keychain, open_store
from tests._files import write_docx, write_pdf
from tests.engine._cli_run import hearth


def ok(done) -> str:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_docs_commands_and_a_cited_answer(starter_model_path: Path, keychain: Keychain, tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "tax.txt").write_text("The tax return for 2025 is due on 15 April 2026.")
    write_pdf(folder / "lease.pdf", ["The lease starts in April.", "Rent is 900 euros a month."])
    write_docx(folder / "warranty.docx", ["The dishwasher warranty lasts two years."])
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)

    added = hearth("docs", "add", "Home", str(folder), str(folder / "photo.jpg"))
    ok(added)
    assert "New library “Home”" in added.stderr
    assert "photo.jpg" in added.stderr and "not a text document" in added.stderr
    assert "3 read" in added.stderr and "1 unreadable" in added.stderr

    listing = ok(hearth("docs", "list", "home"))
    assert "✓ " + str(folder / "lease.pdf") + " (pdf, 2 pages" in listing
    assert "✗ " + str(folder / "photo.jpg") in listing
    assert ok(hearth("docs", "list")).startswith("Home: 4 documents, 1 unreadable")

    found = ok(hearth("docs", "search", "Home", "euros", "a", "month"))
    assert found.splitlines()[0].startswith("1. lease.pdf, page 2 — Rent is 900 euros")

    answer = hearth(
        "ask",
        "--library",
        "Home",
        "--max-tokens",
        "24",
        "--temperature",
        "0",
        "When is the tax return due?",
    )
    out = ok(answer)
    assert "\nSources:\n" in out and "tax.txt — The tax return for 2025" in out
    with open_store() as store:
        (conv,) = store.list_conversations()
        assert store.conversation_library(conv.id).name == "Home"
        reply = store.active_path(conv.id)[-1]
        (sources,) = store.sources_for([reply.id]).values()
        assert sources[0].path == str(folder / "tax.txt")

    ok(hearth("docs", "remove", "Home", str(folder / "tax.txt")))
    assert "tax.txt" not in ok(hearth("docs", "list", "Home"))
    ok(hearth("docs", "remove", "Home"))
    assert "No libraries yet" in ok(hearth("docs", "list"))


def test_ask_with_an_attached_file(starter_model_path: Path, keychain: Keychain, tmp_path):
    letter = write_docx(tmp_path / "letter.docx", ["Your appointment is on 3 May at 10:00."])
    out = ok(
        hearth(
            "ask",
            "--file",
            str(letter),
            "--max-tokens",
            "16",
            "--temperature",
            "0",
            "When is the appointment?",
        )
    )
    assert "[1] letter.docx — Your appointment is on 3 May" in out
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 50)
    refused = hearth("ask", "--file", str(bad), "What does it say?")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "scan.pdf" in refused.stderr and "not a readable PDF" in refused.stderr
    assert "the question was not sent" in refused.stderr


def test_unknown_library_is_a_clear_error(keychain: Keychain):
    done = hearth("docs", "search", "Nope", "anything")
    assert done.returncode == 1 and "There is no library called “Nope”" in done.stderr


def test_chat_answers_from_a_library(starter_model_path: Path, keychain: Keychain, tmp_path):
    (tmp_path / "tax.txt").write_text("The tax return for 2025 is due on 15 April 2026.")
    ok(hearth("docs", "add", "Home", str(tmp_path / "tax.txt")))
    out = ok(
        hearth(
            "chat",
            "--library",
            "Home",
            "--max-tokens",
            "12",
            "--temperature",
            "0",
            stdin="When is the tax return due?\n/new\nWhich year is the tax return for?\n",
        )
    )
    assert out.count("Sources:") == 2  # the library stays after /new
    assert "[1] tax.txt — The tax return for 2025" in out
