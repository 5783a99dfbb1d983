"""Engine tests never import Qt: checked after every test."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from engine.catalog import Catalog, load_catalog


@pytest.fixture(autouse=True)
def qt_stays_out() -> Iterator[None]:
    yield
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "shiboken6",
                                                                  "desktop"})
    assert not leaked, f"an engine test imported Qt or desktop: {leaked[:5]}"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
