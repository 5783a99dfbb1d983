"""Engine tests never import Qt: checked after every test (a subprocess test in
test_architecture.py also imports every engine module with Qt made unimportable)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from engine.catalog import Catalog, load_catalog

_FORBIDDEN = {"PySide6", "shiboken6", "desktop"}


@pytest.fixture(autouse=True)
def qt_stays_out() -> Iterator[None]:
    before = set(sys.modules)
    yield
    leaked = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in _FORBIDDEN)
    assert not leaked, f"an engine test imported Qt or desktop: {leaked[:5]}"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
