"""What the window remembers between runs: its geometry, the sidebar's width and the settings,
all in the encrypted store (no plain files). Read once before the window shows, written at
close; both on the store's owner thread."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from desktop.settings import AppSettings
from engine.errors import HearthError
from engine.storage import StoreOwner

GEOMETRY_SETTING = "window.geometry"
SPLITTER_SETTING = "window.splitter"


@dataclass(frozen=True)
class WindowState:
    geometry: bytes = b""
    splitter: bytes = b""
    settings: AppSettings = field(default_factory=AppSettings)


def read_state(owner: StoreOwner) -> WindowState:
    """The remembered state; what cannot be read is left at its default (a store that cannot
    be read shows its own error as soon as the window uses it)."""
    store = owner.store

    def read() -> WindowState:
        geometry = store.get_setting(GEOMETRY_SETTING) or ""
        splitter = store.get_setting(SPLITTER_SETTING) or ""
        return WindowState(
            base64.b64decode(geometry),
            base64.b64decode(splitter),
            AppSettings.from_store(store.get_setting),
        )

    try:
        return owner.call(read)
    except (HearthError, ValueError):
        return WindowState()


def save_state(owner: StoreOwner, geometry: bytes, splitter: bytes) -> None:
    """Queued on the owner thread; losing the window size is not worth a dialog at exit."""
    store = owner.store

    def save() -> None:
        store.set_setting(GEOMETRY_SETTING, base64.b64encode(geometry).decode())
        store.set_setting(SPLITTER_SETTING, base64.b64encode(splitter).decode())

    owner.post(save)
