"""A folder of real files for document tests, and the starter model as an embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.docs import Embedder, open_embedder
from tests._files import write_docx, write_pdf


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder of a person's documents, one of each kind Hearth reads."""
    root = tmp_path / "papers"
    (root / "code").mkdir(parents=True)
    (root / "notes.md").write_text(
        "# Garden\n\nThe tomatoes need water every morning.\n\nPlant basil beside them.\n",
        encoding="utf-8",
    )
    (root / "tax.txt").write_text(
        "The tax return for 2025 is due on 15 April 2026. Keep receipts for seven years.",
        encoding="utf-8",
    )
    (root / "code" / "rent.py").write_text(
        "def rent_due(month: str) -> bool:\n    return month == 'March'\n", encoding="utf-8"
    )
    (root / "page.html").write_text(
        "<html><head><title>Boiler</title><script>var secret = 'scriptword';</script></head>"
        "<body><p>The boiler service is every October.</p></body></html>",
        encoding="utf-8",
    )
    write_pdf(
        root / "lease.pdf",
        [
            "The lease of the flat starts in April.",
            "The rent is 900 euros a month, paid on the first day.",
            "The lease ends in March 2027; notice is three months.",
        ],
    )
    write_docx(root / "warranty.docx", ["The dishwasher warranty lasts two years."])
    return root


@pytest.fixture(scope="session")
def embedder(starter_model_path: Path) -> Iterator[Embedder]:
    """The starter chat model through llama.cpp's embedding mode (no embedding GGUF ships
    on PyPI): the same code path as a real embedding model."""
    with open_embedder(starter_model_path, model_id="starter-embeddings", threads=2) as e:
        yield e
