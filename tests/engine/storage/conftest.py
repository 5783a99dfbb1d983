"""Storage fixtures: the real Secret Service keyring (from scripts/test.sh), real SQLCipher
files in the test's own profile, and a reader of decrypted pages for leak checks."""

from __future__ import annotations

from pathlib import Path

import keyring.errors
import pytest
import sqlcipher3


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Overrides tests/conftest.py: the storage tests keep the store one folder down."""
    return tmp_path / "profile-data" / "hearth.db"


def raw_connect(path: Path, key_hex: str) -> sqlcipher3.Connection:
    """A bare SQLCipher connection, for checks beside the store's own."""
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key_hex}'\"")
    return conn


# -- SQLCipher 4 page format (defaults): AES-256-CBC, per page a 16-byte IV and a 64-byte
# HMAC-SHA512 at the end; page 1 starts with the 16-byte salt in the clear.
PAGE_SIZE = 4096
RESERVE = 80
WAL_HEADER = 32
WAL_FRAME_HEADER = 24


def decrypt_page(page: bytes, pgno: int, key: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    start = 16 if pgno == 1 else 0
    iv = page[PAGE_SIZE - RESERVE : PAGE_SIZE - RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE_SIZE - RESERVE]) + decryptor.finalize()


def decrypted_db_pages(path: Path, key_hex: str) -> list[bytes]:
    data = path.read_bytes()
    key = bytes.fromhex(key_hex)
    return [
        decrypt_page(data[i : i + PAGE_SIZE], i // PAGE_SIZE + 1, key)
        for i in range(0, len(data) - PAGE_SIZE + 1, PAGE_SIZE)
    ]


def decrypted_wal_frames(path: Path, key_hex: str) -> list[bytes]:
    if not path.exists():
        return []
    data = path.read_bytes()
    key = bytes.fromhex(key_hex)
    frames = []
    offset = WAL_HEADER
    while offset + WAL_FRAME_HEADER + PAGE_SIZE <= len(data):
        pgno = int.from_bytes(data[offset : offset + 4], "big")
        page = data[offset + WAL_FRAME_HEADER : offset + WAL_FRAME_HEADER + PAGE_SIZE]
        frames.append(decrypt_page(page, pgno, key))
        offset += WAL_FRAME_HEADER + PAGE_SIZE
    return frames


class LockedBackend:
    """A keychain that exists but is locked (the person dismissed the unlock prompt).

    Not a KeyringBackend subclass: keyring registers every subclass and would chain it in.
    """

    name = "Locked test keychain"

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("locked")
