"""Fixtures every test gets: a fresh profile, no stray threads; and the real starter model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.paths import PROJECT_ROOT

STARTER_FILE = PROJECT_ROOT / "assets" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(autouse=True)
def fresh_profile(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets empty platformdirs/XDG folders: nothing leaks between tests, nothing
    touches the developer's real profile."""
    root = tmp_path_factory.mktemp("profile")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        (root / sub).mkdir()
        monkeypatch.setenv(var, str(root / sub))
    return root


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [t for t in threading.enumerate()
                 if t not in before and t.is_alive() and not t.daemon]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture(scope="session")
def starter_model_path() -> Path:
    if not STARTER_FILE.exists():
        pytest.fail(f"starter model missing at {STARTER_FILE}: run scripts/setup.sh --no-launch")
    return STARTER_FILE
