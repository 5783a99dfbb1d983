"""model-pins.json, as Hearth writes it and as a person (or damage) may leave it."""

from __future__ import annotations

import pytest

from engine.catalog.pins import Pin, pin, pinned, pins_path


@pytest.mark.parametrize(
    "text",
    ['{"files": []}', '{"files": {"a.gguf": 3}}', "[1, 2]", '{"files": "x"}', "{not json"],
)
def test_a_pin_file_that_hearth_did_not_write_pins_nothing(text: str):
    pins_path().parent.mkdir(parents=True, exist_ok=True)
    pins_path().write_text(text, encoding="utf-8")
    assert pinned("a.gguf") is None  # no traceback; the catalog's checksums still apply


def test_pins_round_trip():
    pin("a.gguf", "ab" * 32, 7, "server's Digest")
    assert pinned("a.gguf") == Pin("ab" * 32, 7, "server's Digest")
