"""The window's settings, as kept in the encrypted store (``store.set_setting``): sampling,
thinking budget, how a model loads, and the app-lock idle time. Plain Python, no Qt.

``None`` means "the model's default from models.toml" (sampling, budget) or "automatic"
(context, threads, GPU layers). The app-lock passcode is not here: only its hash is kept, in a
file of its own (``desktop.app_lock``), because it is checked while the store is locked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from engine.inference import GenerationOptions

PREFIX = "settings."
THEMES = ("system", "light", "dark")
TEXT_SIZES = (90, 100, 115, 130)
_KINDS: dict[str, type] = {
    "temperature": float,
    "top_p": float,
    "repeat_penalty": float,
    "system_prompt": str,
    "theme": str,
}


@dataclass(frozen=True)
class LoadSettings:
    """How the next model load goes; ``None`` lets Hearth plan it for this machine."""

    n_ctx: int | None = None
    threads: int | None = None
    gpu_layers: int | None = None


@dataclass(frozen=True)
class AppSettings:
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repeat_penalty: float | None = None
    thinking_budget: int | None = None
    n_ctx: int | None = None
    threads: int | None = None
    gpu_layers: int | None = None
    lock_idle_minutes: int = 0  # 0: never lock by itself
    system_prompt: str = ""  # for new conversations (each keeps its own, editable)
    theme: str = "system"  # "system", "light" or "dark"
    text_size: int = 100  # percent of the platform's font size

    def options(self, base: GenerationOptions) -> GenerationOptions:
        """``base`` with these sampling settings and budget (other fields kept)."""
        return dataclasses.replace(
            base,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            repeat_penalty=self.repeat_penalty,
            thinking_budget=self.thinking_budget,
        )

    def load(self) -> LoadSettings:
        return LoadSettings(self.n_ctx, self.threads, self.gpu_layers)

    def to_store(self) -> dict[str, str | None]:
        """Setting key → text to keep, or None to delete the key (back to the default)."""
        return {PREFIX + f.name: _text(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_store(cls, get: Callable[[str], str | None]) -> AppSettings:
        """Read with ``get`` (``store.get_setting``); a value that does not parse is left at
        its default rather than stopping the app."""
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = get(PREFIX + f.name)
            if raw is None or raw == "":
                continue
            kind = _KINDS.get(f.name, int)
            try:
                values[f.name] = kind(raw)
            except ValueError:
                continue
        if values.get("theme") not in (None, *THEMES):
            del values["theme"]
        return cls(**values)  # type: ignore[arg-type]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
