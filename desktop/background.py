"""The one way the GUI runs work off its thread (other than the model, which the
InferenceWorker owns): ``BackgroundOp(parent, fn).success(cb).failure(cb).run()``.

Every op runs on one single-thread executor, so store calls happen one at a time and in the
order they were asked for; callbacks run on the GUI thread, and not at all once ``parent`` is
gone (a closed dialog never receives a late result).
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)
T = TypeVar("T")

_executor: concurrent.futures.ThreadPoolExecutor | None = None


def executor() -> concurrent.futures.ThreadPoolExecutor:
    global _executor  # noqa: PLW0603 — one executor per process, made on first use
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="hearth-storage"
        )
    return _executor


def shutdown() -> None:
    """Finish queued work and stop the thread (at exit, before the store is closed)."""
    global _executor  # noqa: PLW0603
    if _executor is not None:
        _executor.shutdown(wait=True)
        _executor = None


class _Relay(QObject):
    """Made on the GUI thread, so a signal emitted from the executor arrives there, queued,
    at a slot of the relay itself. (Connecting a cross-thread signal to a method of a plain
    Python object crashed PySide6 6.11 when that object was freed after delivery.) Relays in
    flight are kept in ``_IN_FLIGHT`` so none is collected before it delivers."""

    done = Signal(object, object)  # result, exception

    def __init__(
        self,
        parent: QObject,
        on_success: Callable[[Any], Any] | None,
        on_failure: Callable[[Exception], Any] | None,
    ) -> None:
        super().__init__()
        self._parent = parent
        self._on_success = on_success
        self._on_failure = on_failure
        self.done.connect(self._on_done)

    @Slot(object, object)
    def _on_done(self, result: Any, exc: Exception | None) -> None:
        _IN_FLIGHT.discard(self)
        self.deleteLater()
        if not shiboken6.isValid(self._parent):
            return  # the window or dialog that asked is gone
        if exc is not None:
            if self._on_failure is not None:
                self._on_failure(exc)
            else:
                log.error("background operation failed: %s", type(exc).__name__)
        elif self._on_success is not None:
            self._on_success(result)


_IN_FLIGHT: set[_Relay] = set()


class BackgroundOp(Generic[T]):
    def __init__(self, parent: QObject, fn: Callable[[], T]) -> None:
        self._parent = parent
        self._fn = fn
        self._on_success: Callable[[T], Any] | None = None
        self._on_failure: Callable[[Exception], Any] | None = None

    def success(self, callback: Callable[[T], Any]) -> BackgroundOp[T]:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[Exception], Any]) -> BackgroundOp[T]:
        self._on_failure = callback
        return self

    def run(self) -> concurrent.futures.Future[T]:
        """Queue the work; callbacks follow on the GUI thread."""
        relay = _Relay(self._parent, self._on_success, self._on_failure)
        _IN_FLIGHT.add(relay)
        fn = self._fn

        def work() -> T:
            try:
                result = fn()
            except Exception as exc:
                relay.done.emit(None, exc)
                raise
            relay.done.emit(result, None)
            return result

        return executor().submit(work)
