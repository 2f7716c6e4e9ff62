"""What `modelterms serve` adds to uvicorn's HTTP protocol: limits a stranger on the internet needs.

uvicorn (with httptools) reads a request head of any size, waits for a half-sent one forever,
and keeps writing to a client that stopped reading. Each is a way to hold the server's memory
or its connections without doing anything. `GuardedHttp` bounds all three:

- a request head (request line and headers) over MAX_HEAD_BYTES is refused with 431;
- a request head must arrive whole within `timeout` seconds of the connection opening (or of
  the previous response ending), however slowly its bytes trickle in;
- a response whose writes stay blocked for `timeout` seconds, past a fixed kernel send buffer
  (the client's window is shut: an event stream nobody reads), is dropped, which ends the
  stream and frees its buffers.

Request bodies have their own deadline where they are read (app.playground.http.routes), since a
body is read by the app, not by the protocol.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import struct
from typing import Any, ClassVar

from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024  # what browsers send, with room for a shared domain's cookies
SEND_BUFFER_BYTES = 256 * 1024  # what the kernel may hold for one client: plenty at LAN and WAN speeds
SPARE_FILES = 64  # descriptors kept free of connections: the store, worker pipes, logs

# uvicorn's logging, with the app's own logger (error ids beside their tracebacks) in the same format.
LOG_CONFIG = LOGGING_CONFIG | {
    "loggers": LOGGING_CONFIG["loggers"] | {"modelterms": {"handlers": ["default"], "level": "INFO"}}
}


class GuardedHttp(HttpToolsProtocol):
    client_timeout: ClassVar[float]  # seconds; set by guarded_http, since uvicorn builds the protocol

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_bytes = 0
        self.head_tail = b""  # the last bytes of the previous read: a head's blank line may straddle two
        self.head_deadline: asyncio.TimerHandle | None = None
        self.stall_deadline: asyncio.TimerHandle | None = None
        self.refused = False

    # --- the request head: its size and its deadline ---------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Left to itself the kernel grows a connection's send buffer to megabytes, which a client
        # that never reads pins; a fixed size bounds that, and makes a stall show up soon.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()  # a fresh deadline for the next request on this connection

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.head_deadline is None:  # a pipelined request while a response is still going out
            self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self._cancel(self.head_deadline)
        self.head_deadline = None
        self.head_bytes = 0
        self.head_tail = b""
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # read and dropped until the client hangs up or the deadline closes it
        # Counted before parsing: a whole oversized head can arrive in one read, and once parsed
        # the request would already be on its way to the app.
        if self.head_deadline is not None and not self.transport.is_closing():
            self.head_bytes += self._head_part(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self._refuse_head()
                return
        super().data_received(data)

    def _head_part(self, data: bytes) -> int:
        """How many bytes of `data` belong to the request head: up to its blank line, if the line
        ends here (it may have begun in the previous read), else all of them."""
        seen = self.head_tail + data
        end = seen.find(b"\r\n\r\n")
        self.head_tail = seen[-3:]
        return len(data) if end < 0 else max(end + 4 - (len(seen) - len(data)), 0)

    def _arm_head_deadline(self) -> None:
        self._cancel(self.head_deadline)
        self.head_deadline = self.loop.call_later(self.client_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self.head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        body = f"Request headers: at most {MAX_HEAD_BYTES} bytes are accepted.".encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
        )
        # Half-close: the client can read the answer before it sees the end (a full close with
        # its unread bytes still arriving would reset the connection and lose the answer).
        self.transport.write_eof()
        self.refused = True
        # Nothing more is parsed; the head read so far is let go. uvicorn types the parser as never
        # None, yet drops it the same way when the connection is lost.
        self.parser = None  # type: ignore[assignment]

    # --- responses the client stopped reading ----------------------------------------------
    def pause_writing(self) -> None:
        super().pause_writing()
        if self.stall_deadline is None:
            self.stall_deadline = self.loop.call_later(self.client_timeout, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel(self.stall_deadline)
        self.stall_deadline = None

    def _stalled(self) -> None:
        self.stall_deadline = None
        # A reset, not a close: a close would queue the end behind the unread bytes, which the
        # kernel would then keep trying to send for minutes.
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        for deadline in (self.head_deadline, self.stall_deadline):
            self._cancel(deadline)
        super().connection_lost(exc)

    @staticmethod
    def _cancel(deadline: asyncio.TimerHandle | None) -> None:
        if deadline is not None:
            deadline.cancel()


def guarded_http(timeout: float) -> type[GuardedHttp]:
    """The protocol class for uvicorn.Config(http=...), with deadlines of `timeout` seconds.
    uvicorn builds each connection's protocol from the class it is given, so the timeout travels
    on the class."""

    class TimedGuardedHttp(GuardedHttp):
        client_timeout = timeout

    return TimedGuardedHttp


def connection_limit() -> int:
    """How many connections to accept at once: the process's file limit (raised to its hard
    limit), less a few. Past it uvicorn answers 503 instead of failing to accept at all."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # an unlimited hard limit cannot be the soft one on some systems; keep ours
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(soft - SPARE_FILES, SPARE_FILES)
