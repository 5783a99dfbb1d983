"""Every error Hearth shows a person derives from HearthError.

Each carries ``user_message`` (what happened, in plain words) and ``next_step`` (what to do).
Neither ever contains prompt or chat text: exceptions end up in logs and dialogs.
"""

from __future__ import annotations


class HearthError(Exception):
    """Root of Hearth's errors. ``str(exc)`` is the user message plus the next step."""

    default_next_step = ""

    def __init__(self, user_message: str, next_step: str | None = None) -> None:
        self.user_message = user_message
        self.next_step = next_step if next_step is not None else self.default_next_step
        super().__init__(self.full_message)

    @property
    def full_message(self) -> str:
        return f"{self.user_message} {self.next_step}".strip()


class Cancelled(HearthError):
    """The person stopped the operation. Callers swallow it; it is never presented."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")


class CatalogError(HearthError):
    """models.toml is malformed; the message names the line and field."""

    default_next_step = "Fix models.toml at that line, or restore it from the release."

    def __init__(self, message: str, *, path: str, line: int | None, field: str | None) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = f"{path}, line {line}" if line is not None else path
        if field:
            where += f", field '{field}'"
        super().__init__(f"The model catalog is invalid ({where}): {message}")


class ModelError(HearthError):
    """A model file cannot be used: missing, truncated, not GGUF, unsupported."""

    default_next_step = "Re-download or re-import the model, or pick another one."


class ModelDoesNotFit(HearthError):
    """The model needs more memory than this machine has free."""

    default_next_step = "Pick a smaller model or quantization, or lower the context size."


class PromptTooLong(HearthError):
    """The newest message alone does not fit in the model's context."""

    default_next_step = "Shorten the message, or raise the context size in the settings."


class InferenceError(HearthError):
    """llama.cpp failed while evaluating or generating."""

    default_next_step = "Try again; if it keeps failing, reload the model."


# ---- model manager: downloads, imports, removal, verification (issue 6) -------------------


class DownloadsOff(HearthError):
    """A download was asked for while Local-only mode is on, without the person's consent."""

    default_next_step = (
        "Run it again with --allow-download (Downloads allowed for this download only, back "
        "to Local-only afterwards), or allow downloads in the settings."
    )


class DownloadError(HearthError):
    """The download failed: network, server answer, or an unusable catalog entry."""

    default_next_step = (
        "Check the connection and start the download again: it resumes where it stopped."
    )


class UnverifiableDownload(DownloadError):
    """Neither the catalog nor the server gives a checksum, so the file cannot be verified."""

    default_next_step = (
        "Nothing was written. Import the file yourself once you have checked its sha256 "
        "(hearth models import PATH)."
    )


class ChecksumMismatch(ModelError):
    """A file's sha256 differs from the catalog's, the pinned one or the server's."""

    default_next_step = (
        "The file was removed. Download it again; if it keeps failing, the server's file is "
        "not the one the catalog names."
    )


class NotEnoughDiskSpace(HearthError):
    """The models folder's disk cannot hold the file (checked before writing)."""

    default_next_step = "Free some disk space, then try again; a partial download is kept."


class ImportRejected(ModelError):
    """A file offered for import is not a usable, safe GGUF model."""

    default_next_step = "Nothing was copied. Pick another .gguf file."


class ModelNotRemovable(HearthError):
    """The model is not installed in the user's models folder (e.g. it ships with Hearth)."""

    default_next_step = "Run 'hearth models' to see what is installed and where."
