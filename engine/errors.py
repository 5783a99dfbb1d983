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
