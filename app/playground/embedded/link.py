"""A worker's pipe, driven by two threads with blocking calls, so the event loop never waits on it.

The pipe is never watched with `loop.add_reader`: under uvloop that switches it to non-blocking
mode, and a message bigger than the pipe's buffer then fails half-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection


class WorkerLink:
    """A worker's pipe, driven by a sender and a receiver thread. Received messages reach the
    event loop through `on_message`; the end of the pipe (the worker exited or died) through
    `on_lost`, once."""

    _CLOSE = object()

    def __init__(self, conn: Connection, on_message: Callable[[tuple], None], on_lost: Callable[[], None]) -> None:
        self.conn = conn
        self._loop = asyncio.get_running_loop()
        self._on_message, self._on_lost = on_message, on_lost
        self._outgoing: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name="modelterms-worker-send", daemon=True)
        self._receiver = threading.Thread(target=self._receive_all, name="modelterms-worker-recv", daemon=True)
        self._sender.start()
        self._receiver.start()

    def send(self, message: tuple | None) -> None:
        self._outgoing.put(message)

    def close(self) -> None:
        """Stop sending. The receiver ends (and closes the pipe) when the worker's end closes."""
        self._outgoing.put(self._CLOSE)
        self._sender.join(1)

    def _send_all(self) -> None:
        while (message := self._outgoing.get()) is not self._CLOSE:
            try:
                self.conn.send(message)
            except (OSError, ValueError):  # the worker is gone: the receiver reports it
                return

    def _receive_all(self) -> None:
        try:
            while True:
                message = self.conn.recv()
                self._loop.call_soon_threadsafe(self._on_message, message)
        except (EOFError, OSError):
            pass
        finally:
            with contextlib.suppress(RuntimeError):  # the loop may have closed already (exit)
                self._loop.call_soon_threadsafe(self._on_lost)
            self._outgoing.put(self._CLOSE)
            self._sender.join(1)
            self.conn.close()
