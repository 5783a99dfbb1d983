"""The app-lock passcode: only a salted scrypt hash is kept, in the config folder.

It lives outside the encrypted store on purpose: the store is closed while the app is locked,
and the passcode must be checked before it is reopened. The file holds the salt, the scrypt
parameters and the hash — never the passcode or any other text the person typed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
from pathlib import Path

from engine import paths

FILENAME = "app-lock.json"
# scrypt cost: about 50 ms here; 16 MiB of memory (n * r * 128 bytes).
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32


def lock_file() -> Path:
    return paths.config_dir() / FILENAME


def has_passcode(path: Path | None = None) -> bool:
    return (path or lock_file()).is_file()


def _hash(passcode: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passcode.encode(), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=256 * 1024 * 1024
    )


def set_passcode(passcode: str, path: Path | None = None) -> None:
    """Keep a salted scrypt hash of ``passcode`` (replacing any earlier one), atomically.

    Raises: ValueError for an empty passcode; OSError when the file cannot be written.
    """
    if not passcode:
        raise ValueError("empty passcode")
    path = path or lock_file()
    salt = secrets.token_bytes(SALT_BYTES)
    record = {
        "kdf": "scrypt",
        "n": N,
        "r": R,
        "p": P,
        "salt": salt.hex(),
        "hash": _hash(passcode, salt, N, R, P).hex(),
    }
    paths.write_private_atomic(path, json.dumps(record).encode())


def clear_passcode(path: Path | None = None) -> None:
    with contextlib.suppress(FileNotFoundError):
        (path or lock_file()).unlink()


def check_passcode(passcode: str, path: Path | None = None) -> bool:
    """Whether ``passcode`` matches the kept hash (False when none is kept or it is unreadable)."""
    try:
        record = json.loads((path or lock_file()).read_text())
        salt = bytes.fromhex(record["salt"])
        expected = bytes.fromhex(record["hash"])
        actual = _hash(passcode, salt, int(record["n"]), int(record["r"]), int(record["p"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
