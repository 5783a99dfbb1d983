"""Fixtures every test gets: the egress policy in Local-only mode, a fresh profile, no stray
threads; and the real starter model."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import engine.policy
from engine.paths import PROJECT_ROOT
from engine.policy import EgressAttempt, Mode
from engine.storage import ConversationStore, Keychain, open_store

# ---- egress policy (issue 4) ----------------------------------------------------------------
# Installed while pytest loads this file, before any test module is imported; it stays for the
# whole session (audit hooks cannot be removed). The test session is an entry point like the
# CLI: it names its own download module (for the policy's tests) and may widen the mode.
engine.policy.install(
    Mode.LOCAL_ONLY,
    download_modules=engine.policy.DOWNLOAD_MODULES | {"tests.engine.policy._fake_download"},
    user_action_modules=(*engine.policy.USER_ACTION_MODULES, "tests"),
)


class Egress:
    """The policy as a test sees it: this test's ledger entries, and a mode switch."""

    def __init__(self) -> None:
        self._mark = engine.policy.ledger().total

    def entries(self) -> list[EgressAttempt]:
        """Ledger entries recorded during this test."""
        return engine.policy.ledger().since(self._mark)

    def blocked(self) -> list[EgressAttempt]:
        return [e for e in self.entries() if not e.allowed]

    @contextmanager
    def mode(self, mode: Mode) -> Iterator[None]:
        """Switch mode for a block (e.g. Downloads allowed around a loopback download)."""
        engine.policy.set_mode(mode)
        try:
            yield
        finally:
            engine.policy.set_mode(Mode.LOCAL_ONLY)


@pytest.fixture(autouse=True)
def egress() -> Iterator[Egress]:
    """Every test starts and ends in Local-only mode."""
    engine.policy.set_mode(Mode.LOCAL_ONLY)
    yield Egress()
    engine.policy.set_mode(Mode.LOCAL_ONLY)


# ---- end of egress policy ---------------------------------------------------------------------

STARTER_FILE = PROJECT_ROOT / "assets" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(autouse=True)
def fresh_profile(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets empty platformdirs/XDG folders: nothing leaks between tests, nothing
    touches the developer's real profile."""
    root = tmp_path_factory.mktemp("profile")
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        (root / sub).mkdir()
        monkeypatch.setenv(var, str(root / sub))
    return root


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [
            t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
        ]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture
def keychain() -> Iterator[Keychain]:
    """The real Secret Service keychain entry (scripts/test.sh starts gnome-keyring on a
    private D-Bus session), emptied before and after the test."""
    if os.environ.get("HEARTH_TEST_KEYRING") != "secret-service":
        pytest.fail(
            "storage tests need the real Secret Service keyring: run them through "
            "scripts/test.sh (dbus-run-session + gnome-keyring)"
        )
    chain = Keychain()
    assert chain.available(), f"no keychain backend: {chain.backend_name}"
    chain.delete()
    chain.delete_pending()
    yield chain
    chain.delete()
    chain.delete_pending()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's encrypted store lives (tests/engine/storage overrides it)."""
    return tmp_path / "hearth.db"


@pytest.fixture
def store(keychain: Keychain, db_path: Path) -> Iterator[ConversationStore]:
    """A real encrypted store at db_path, keyed from the real keychain; closed afterwards."""
    with open_store(db_path) as s:
        yield s


@pytest.fixture(scope="session")
def starter_model_path() -> Path:
    if not STARTER_FILE.exists():
        pytest.fail(f"starter model missing at {STARTER_FILE}: run scripts/setup.sh --no-launch")
    return STARTER_FILE
