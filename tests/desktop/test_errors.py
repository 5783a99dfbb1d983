"""What a person is told about an error: plain words, never a class name or the error's own
text (which may carry a prompt or a file's content)."""

from __future__ import annotations

from desktop.errors import describe
from engine.errors import ModelError


def test_an_unexpected_error_is_told_in_words_without_its_text():
    what, next_step = describe(IndexError("list index out of range: my secret prompt"))
    assert what == "Something went wrong inside Hearth."
    assert "IndexError" not in what + next_step and "secret" not in what + next_step
    assert next_step.startswith("Try again")


def test_hearth_errors_keep_their_own_message():
    assert describe(ModelError("The file is damaged.", "Re-download it.")) == (
        "The file is damaged.",
        "Re-download it.",
    )
