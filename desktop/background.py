"""The one way the GUI runs work off its thread (other than the model, which the
InferenceWorker owns): ``BackgroundOp(parent, fn).success(cb).failure(cb).run(lane)``.

A lane is where ``fn`` runs: the ``StoreOwner`` for anything that touches the store (one
thread, in the order asked for), or ``OWN_THREAD`` for slow work that must not hold the store
up (hardware detection). Callbacks run on the GUI thread, and not at all once ``parent`` is
gone (a closed dialog never receives a late result).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)
T = TypeVar("T")


class Lane(Protocol):
    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]: ...


class _OwnThread:
    """A lane that starts a short-lived daemon thread for each op."""

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            try:
                future.set_result(fn())
            except Exception as exc:
                future.set_exception(exc)

        threading.Thread(target=work, name="hearth-background", daemon=True).start()
        return future


OWN_THREAD: Lane = _OwnThread()


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

    def run(self, lane: Lane) -> concurrent.futures.Future[T]:
        """Queue the work on ``lane``; callbacks follow on the GUI thread.

        A lane that refuses the work (a closed StoreOwner) is reported to the failure
        callback before this returns.
        """
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

        try:
            return lane.submit(work)
        except Exception as exc:  # the lane is closed: the failure callback is told at once
            relay.done.emit(None, exc)
            failed: concurrent.futures.Future[T] = concurrent.futures.Future()
            failed.set_exception(exc)
            return failed
