"""The catalog's embedding model: parsed apart from chat models, found once installed, and
loaded through llama.cpp's embedding mode."""

from __future__ import annotations

import os

import numpy as np
import pytest

from engine.catalog import Catalog
from engine.catalog.catalog import parse_catalog
from engine.docs import installed_embedder, open_catalog_embedder
from engine.errors import CatalogError
from engine.paths import PROJECT_ROOT, models_dir


def test_the_embedding_model_is_not_a_chat_model(catalog: Catalog):
    (entry,) = catalog.embedders
    assert entry.embedding is not None and entry.embedding.dimensions == 768
    assert entry.embedding.query_prefix == "search_query: "
    assert entry.id not in {m.id for m in catalog.models}  # not offered for chatting
    assert catalog.get(entry.id) is entry  # but pulled like one
    assert entry.sha256 == "" and entry.size == 0  # not confirmed: pinned at download
    assert "huggingface.co" in catalog.download_hosts()


def test_embedding_fields_are_checked():
    text = (PROJECT_ROOT / "models.toml").read_text()
    with pytest.raises(CatalogError, match="'chat' or 'embedding'"):
        parse_catalog(text.replace('kind = "embedding"', 'kind = "vectors"'))
    with pytest.raises(CatalogError, match=r"embedding\.dimensions"):
        parse_catalog(text.replace("dimensions = 768", "dimensions = 0"))


def test_an_installed_embedding_model_is_found_and_used(catalog: Catalog, starter_model_path):
    assert installed_embedder(catalog) is None and open_catalog_embedder(catalog) is None
    (entry,) = catalog.embedders
    # Any GGUF works in embedding mode; the starter model stands in for the download here
    # (the real file is not reachable from these machines).
    models_dir().mkdir(parents=True)
    os.link(starter_model_path, models_dir() / entry.file)
    found = installed_embedder(catalog)
    assert found is not None and found[1] == models_dir() / entry.file
    embedder = open_catalog_embedder(catalog)
    assert embedder is not None
    with embedder:
        assert embedder.model_id == entry.id
        v = embedder.embed_query("When is the tax return due?")
        assert v.shape == (embedder.dimensions,) and np.isclose(np.linalg.norm(v), 1.0)
        (blob,) = embedder.embed_passages(["The tax return is due in April."])
        assert len(blob) == embedder.dimensions  # int8, one byte a component
