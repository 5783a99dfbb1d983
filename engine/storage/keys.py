"""Where the database key lives: a random raw key in the OS keychain, or a passphrase.

The keychain holds ``secrets.token_hex(32)`` under service "Hearth", entry "database-key".
A missing, failing or plaintext keyring backend is an explicit state (``KeychainUnavailable``)
that the caller must answer with a passphrase: there is never a silent plaintext fallback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors

from engine.paths import fsync_dir, write_private_atomic
from engine.storage.errors import (
    InvalidPassphrase,
    KeychainError,
    KeychainLocked,
    KeychainUnavailable,
)

SERVICE = "Hearth"
ENTRY = "database-key"
# Holds the next key while a rekey is in flight, so a crash between re-encrypting the file and
# saving the key in the keychain never leaves a database nobody can open.
PENDING_SUFFIX = ".next"

# "memory": nothing is written anywhere (no keychain and the person chose not to set a
# passphrase); the history lives until the app closes.
Protection = Literal["keychain", "passphrase", "memory"]

_HEX_KEY = re.compile(r"[0-9a-f]{64}")
# Backends that exist but keep secrets in a file Hearth would not call a keychain.
_INSECURE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


@dataclass(frozen=True)
class RawKey:
    """A 256-bit key used directly by SQLCipher (no key derivation at open)."""

    hex: str = field(repr=False)

    def __post_init__(self) -> None:
        if not _HEX_KEY.fullmatch(self.hex):
            raise KeychainError("The key in the keychain is not a Hearth database key.")

    @property
    def bound_value(self) -> str:
        """The key as SQLCipher reads a raw key: ``x'<64 hex>'``, for ``ATTACH ... KEY ?``."""
        return f"x'{self.hex}'"

    @property
    def pragma_literal(self) -> str:
        """For ``PRAGMA key``/``rekey``, which take no ? parameters (validated hex only)."""
        return f'"{self.bound_value}"'


@dataclass(frozen=True)
class Passphrase:
    """A person's passphrase; SQLCipher derives the key (PBKDF2, slow on purpose)."""

    text: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.text:
            raise InvalidPassphrase("A passphrase cannot be empty.")
        if "\x00" in self.text:
            raise InvalidPassphrase("A passphrase cannot contain a NUL character.")
        if re.fullmatch(r"x'[0-9a-fA-F]*'", self.text):
            # SQLCipher would take it as a raw key and skip the key derivation.
            raise InvalidPassphrase("This passphrase has a form Hearth reserves for keys.")

    @property
    def bound_value(self) -> str:
        """For ``ATTACH ... KEY ?``."""
        return self.text

    @property
    def pragma_literal(self) -> str:
        """The passphrase as an SQL string literal (PRAGMA takes no ? parameters)."""
        return "'" + self.text.replace("'", "''") + "'"


DbKey = RawKey | Passphrase


def passphrase_marker(db_path: Path) -> Path:
    """The file beside the database that says "this history is opened with a passphrase".
    It holds no secret; without it Hearth would look for a key in the keychain."""
    return db_path.with_name(f"{db_path.name}.passphrase")


def uses_passphrase(db_path: Path) -> bool:
    """Whether the history at ``db_path`` was last set to open with a passphrase."""
    return passphrase_marker(db_path).exists()


def set_uses_passphrase(db_path: Path, on: bool) -> None:
    """Record how the history opens (durably: a crash leaves the old or the new state).

    Raises: OSError.
    """
    marker = passphrase_marker(db_path)
    if on:
        write_private_atomic(marker, b"passphrase\n")
    else:
        marker.unlink(missing_ok=True)
        fsync_dir(marker.parent)


def new_raw_key() -> RawKey:
    """A fresh random 256-bit key."""
    return RawKey(secrets.token_hex(32))


class Keychain:
    """The OS keychain entry that holds the database key.

    ``backend`` is for tests that simulate a locked or failing keychain; by default keyring
    picks the platform's (macOS Keychain, Windows Credential Locker, Secret Service).
    """

    def __init__(
        self,
        service: str = SERVICE,
        entry: str = ENTRY,
        *,
        backend: keyring.backend.KeyringBackend | None = None,
    ) -> None:
        self.service = service
        self.entry = entry
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            self._backend = platform_backend()
        return self._backend

    @property
    def backend_name(self) -> str:
        backend = self.backend
        return str(getattr(backend, "name", type(backend).__name__))

    def available(self) -> bool:
        """Whether a secure keychain backend exists (it may still be locked)."""
        return _is_secure(self.backend)

    def load(self) -> RawKey | None:
        """The stored key, or None when there is none.

        Raises: KeychainUnavailable, KeychainLocked, KeychainError.
        """
        return self._get(self.entry)

    def load_pending(self) -> RawKey | None:
        """The key of an interrupted rekey, if any. Raises: as ``load``."""
        return self._get(self.entry + PENDING_SUFFIX)

    def save(self, key: RawKey) -> None:
        """Store ``key``. Raises: KeychainUnavailable, KeychainLocked, KeychainError."""
        self._set(self.entry, key)

    def save_pending(self, key: RawKey) -> None:
        """Store the next key before a rekey. Raises: as ``save``."""
        self._set(self.entry + PENDING_SUFFIX, key)

    def delete(self) -> None:
        """Remove the key (absent is fine). Raises: KeychainLocked, KeychainError."""
        self._delete(self.entry)

    def delete_pending(self) -> None:
        """Remove the pending key (absent is fine). Raises: as ``delete``."""
        self._delete(self.entry + PENDING_SUFFIX)

    def _require(self) -> keyring.backend.KeyringBackend:
        backend = self.backend
        if not _is_secure(backend):
            raise KeychainUnavailable(f"keyring backend: {self.backend_name}")
        return backend

    def _get(self, entry: str) -> RawKey | None:
        backend = self._require()
        with _keyring_errors():
            value = backend.get_password(self.service, entry)
        return None if value is None else RawKey(value)

    def _set(self, entry: str, key: RawKey) -> None:
        backend = self._require()
        with _keyring_errors():
            backend.set_password(self.service, entry, key.hex)

    def _delete(self, entry: str) -> None:
        backend = self._require()
        try:
            with _keyring_errors():
                backend.delete_password(self.service, entry)
        except KeychainError as exc:
            if not isinstance(exc.__cause__, keyring.errors.PasswordDeleteError):
                raise


def platform_backend() -> keyring.backend.KeyringBackend:
    """This platform's keychain, loading only its own keyring backend.

    keyring.get_keyring() imports every backend to rank them, and on Linux the macOS one
    probes for its framework through ctypes.util.find_library, which starts ``ld`` and
    ``gcc``: harmless, but each is a program launch the egress policy blocks and the ledger
    shows. PYTHON_KEYRING_BACKEND (keyring's own setting) still wins when set.
    """
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return keyring.get_keyring()
    candidates: list[tuple[str, str]]
    if sys.platform == "darwin":
        candidates = [("keyring.backends.macOS", "Keyring")]
    elif sys.platform == "win32":
        candidates = [("keyring.backends.Windows", "WinVaultKeyring")]
    else:
        candidates = [
            ("keyring.backends.SecretService", "Keyring"),
            ("keyring.backends.kwallet", "DBusKeyring"),
        ]
    for module_name, class_name in candidates:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            if cls.priority > 0:  # raises, or is 0, when the service is not there
                return cls()
        except Exception:  # an absent service: the next candidate's turn
            continue
    return keyring.backends.fail.Keyring()


def _is_secure(backend: keyring.backend.KeyringBackend) -> bool:
    children = getattr(backend, "backends", None)
    if children is not None:  # keyring's ChainerBackend
        return any(_is_secure(child) for child in children)
    module = type(backend).__module__
    return not module.startswith(_INSECURE_BACKENDS)


@contextlib.contextmanager
def _keyring_errors() -> Iterator[None]:
    """Turn keyring's (and its backends') exceptions into typed keychain errors."""
    try:
        yield
    except KeychainError:
        raise
    except keyring.errors.KeyringLocked as exc:
        raise KeychainLocked() from exc
    except keyring.errors.NoKeyringError as exc:
        raise KeychainUnavailable() from exc
    except Exception as exc:
        # Secret Service backends raise their own types (D-Bus errors, a dismissed prompt):
        # any failure here is the keychain's, never a reason to fall back to plaintext.
        raise KeychainError("The system keychain failed to answer.") from exc
