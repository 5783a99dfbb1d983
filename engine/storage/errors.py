"""Typed storage errors. Messages are plain words for a person; none ever contains chat text.

The database file is never changed by the code that raises these: each says so where it
matters, so a person knows nothing already stored was lost.
"""

from __future__ import annotations

from engine.errors import HearthError


class StorageError(HearthError):
    """Root of the conversation store's errors."""

    default_next_step = "Try again. If it keeps happening, restart Hearth."


class KeychainError(StorageError):
    """The system keychain refused a request (other than being absent or locked)."""

    default_next_step = "Check the system keychain, then try again. Nothing was changed."


class KeychainUnavailable(KeychainError):
    """No secure system keychain exists here (e.g. headless Linux without Secret Service)."""

    default_next_step = (
        "Set a passphrase to protect your conversation history: run `hearth passphrase set` "
        "in a terminal."
    )

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "No system keychain is available to hold the database key"
            + (f" ({detail})." if detail else ".")
        )


class KeychainLocked(KeychainError):
    """The keychain exists but is locked, or the person declined access."""

    default_next_step = "Unlock the system keychain (or log in again), then retry."

    def __init__(self) -> None:
        super().__init__("The system keychain is locked or refused access to Hearth's key.")


class KeyNotFound(StorageError):
    """A database exists but the keychain holds no key for it."""

    default_next_step = (
        "If you protected your history with a passphrase, enter it when Hearth asks. "
        "Otherwise move the file aside and restore a backup (`hearth restore FILE`). The "
        "database file has not been changed."
    )

    def __init__(self) -> None:
        super().__init__("Your conversation history is locked, and the keychain has no key for it.")


class PassphraseRequired(StorageError):
    """The history is protected by a passphrase (``hearth passphrase set``): ask for it."""

    default_next_step = "Enter your passphrase to open it."

    def __init__(self) -> None:
        super().__init__("Your conversation history is protected by a passphrase.")


class WrongKey(StorageError):
    """The key or passphrase does not open the file (or its first page was altered)."""

    default_next_step = "Check the passphrase and try again. The file has not been changed."


class InvalidPassphrase(StorageError):
    """A passphrase Hearth cannot use (empty, or containing a NUL character)."""

    default_next_step = "Choose a non-empty passphrase."


class NotADatabase(StorageError):
    """The file is not an encrypted Hearth database (e.g. plain SQLite, or another file)."""

    default_next_step = "Choose the right file. The file has not been changed."


class DatabaseCorrupt(StorageError):
    """A page failed its integrity check: the file was damaged or tampered with."""

    default_next_step = (
        "The damaged file has been left exactly as it is. Run `hearth recover` (or choose "
        "Recover in the window) to copy what can still be read into a new file."
    )

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The conversation database is damaged or was altered"
            + (f" ({detail})." if detail else ".")
        )


class DatabaseTooNew(StorageError):
    """The database was written by a newer Hearth. It is never offered for deletion."""

    default_next_step = "Update Hearth to open it. Do not delete the file."

    def __init__(self, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"The conversation database comes from a newer version of Hearth "
            f"(schema {found}; this version knows up to {known})."
        )


class DatabaseDamaged(StorageError):
    """The history opened, but damaged: it is read-only until Recover copies it out."""

    default_next_step = (
        "Choose Recover (in the window, or `hearth recover` in a terminal): it copies every "
        "readable conversation into a new file and keeps the damaged one aside, unchanged."
    )

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "Your conversation history is damaged"
            + (f" ({detail})" if detail else "")
            + ", so Hearth opened it read-only: nothing can be saved into it."
        )


class MigrationFailed(StorageError):
    """Upgrading the schema failed; the transaction was rolled back."""

    default_next_step = "Nothing was changed. Report this problem, and keep the file."


class DiskFull(StorageError):
    """No space left: the last change was rolled back."""

    default_next_step = "Free some disk space and try again. Everything saved before is intact."

    def __init__(self) -> None:
        super().__init__("The disk is full, so the last change was not saved.")


class ReadOnlyStorage(StorageError):
    """The database, its folder or its disk cannot be written."""

    default_next_step = "Check that the disk is writable and not mounted read-only."

    def __init__(self) -> None:
        super().__init__("The conversation database cannot be written.")


class StorageIOError(StorageError):
    """The operating system reported an I/O failure (failing disk, disk full, limits)."""

    default_next_step = "Check the disk and free space, then try again. Saved data is intact."

    def __init__(self) -> None:
        super().__init__("Reading or writing the conversation database failed.")


class DatabaseBusy(StorageError):
    """Another process holds the database lock (e.g. a second copy of Hearth)."""

    default_next_step = "Close other copies of Hearth, then try again."

    def __init__(self) -> None:
        super().__init__("The conversation database is in use by another program.")


class RecordNotFound(StorageError):
    """A conversation or message id that does not exist (any more)."""

    default_next_step = "Refresh the conversation list."


class ReplyNotStreaming(StorageError):
    """``update_reply``/``finish_reply`` on a message that is not being streamed."""

    default_next_step = "Start a new reply."


class StoreClosed(StorageError):
    """The store was closed (or forgotten) and cannot be used any more."""

    default_next_step = "Open the conversation store again."

    def __init__(self) -> None:
        super().__init__("The conversation store is closed.")


class StoreThreadError(RuntimeError):
    """A programming error, never shown as such: the store was called from a thread other
    than the one that owns it (``engine.storage.owner.StoreOwner``)."""

    def __init__(self) -> None:
        super().__init__("the conversation store was used off its owner thread")


class LibraryExists(StorageError):
    """A library of that name exists already."""

    default_next_step = "Pick another name, or add the files to that library."
