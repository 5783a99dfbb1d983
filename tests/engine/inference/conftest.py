from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.inference import ModelSession, open_model


@pytest.fixture
def session(starter_model_path: Path, catalog: Catalog) -> Iterator[ModelSession]:
    """The real starter model, loaded fresh (an empty KV cache) for each test."""
    with open_model(starter_model_path, entry=catalog.default, n_ctx=2048) as s:
        yield s
