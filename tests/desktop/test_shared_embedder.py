"""The desktop's one embedding model: absent (keyword search), then downloaded while the app
runs and picked up at the next question or indexing run, without a restart."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.workers.documents import SharedEmbedder
from engine.catalog import load_catalog
from engine.paths import models_dir


def test_an_embedding_model_installed_while_running_is_used(starter_model_path: Path):
    shared = SharedEmbedder()
    try:
        assert shared.get() is None and shared.problem == ""  # none installed: keywords only
        (entry,) = load_catalog().embedders
        models_dir().mkdir(parents=True)
        # As a finished download leaves it (any GGUF runs in embedding mode).
        os.link(starter_model_path, models_dir() / entry.file)
        embedder = shared.get()
        assert embedder is not None and embedder.model_id == entry.id
        assert shared.get() is embedder  # loaded once, then shared
    finally:
        shared.close()
