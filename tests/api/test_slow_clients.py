"""Hostile and broken clients against a real `modelterms serve`: huge headers, half-sent requests,
and event streams nobody reads. Raw sockets, since an HTTP client library would behave."""

from __future__ import annotations

import socket
import time
from contextlib import closing, suppress
from pathlib import Path

import httpx
import pytest

from app.server import MAX_HEAD_BYTES
from tests.api.test_selfhost import Server, serving

TIMEOUT = 1.0  # MODELTERMS_CLIENT_TIMEOUT_SECONDS for these servers
SLACK = 3.0  # a loaded CI machine's scheduling, on top of the deadline


@pytest.fixture(scope="module")
def server() -> Server:
    with serving(client_timeout_seconds=str(TIMEOUT), extra_demo_modules='["tests.support.demos"]') as (server, _):
        yield server


def connect(server: Server, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer:  # set before connecting, so the window the server sees is small from the start
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", int(server.base.rsplit(":", 1)[1])))
    sock.settimeout(TIMEOUT + SLACK)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; a reset counts as closed."""
    received = b""
    with suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def rss_bytes(pid: int) -> int:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024


def test_a_huge_header_is_refused_with_431(server) -> None:
    with closing(connect(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (3 * MAX_HEAD_BYTES))
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert f"at most {MAX_HEAD_BYTES} bytes".encode() in answer
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200


def test_a_huge_head_sent_in_one_write_is_refused_with_431(server) -> None:
    with closing(connect(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (2 * MAX_HEAD_BYTES) + b"\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_head_just_under_the_limit_is_served(server) -> None:
    with closing(connect(server)) as sock:
        filler = b"a" * (MAX_HEAD_BYTES - 200)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + filler + b"\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_a_client_cannot_name_itself_past_its_run_limit_with_x_forwarded_for(server) -> None:
    """No proxy is trusted (the default): uvicorn must not take the header's word either, even
    from 127.0.0.1, and the app counts every run against the one peer address."""
    limit = 4  # MODELTERMS_RUNS_PER_CLIENT's default
    answers = [
        httpx.post(
            f"{server.base}/api/demos/counter/runs",
            json={"steps": 100_000, "pace": 1},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
            timeout=10,
        )
        for i in range(limit + 1)
    ]
    try:
        assert [a.status_code for a in answers] == [201] * limit + [429]
    finally:
        for answer in answers:
            if answer.status_code == 201:
                run = answer.json()
                token = {"authorization": f"Bearer {run['control_token']}"}
                httpx.delete(f"{server.base}/api/runs/{run['id']}", headers=token, timeout=10)


def test_a_200_mb_header_does_not_hold_server_memory(server) -> None:
    before = rss_bytes(server.process.pid)
    with closing(connect(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * (1 << 20)
        with suppress(OSError):  # the server hangs up part of the way through: that is the point
            for _ in range(200):
                sock.sendall(chunk)
        grown = rss_bytes(server.process.pid) - before
    assert grown < 20 << 20, f"the server grew by {grown >> 20} MB"
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200


def test_a_request_head_trickled_byte_by_byte_is_cut_off_at_the_deadline(server) -> None:
    with closing(connect(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        with suppress(OSError):  # sending into a closed connection fails: the server hung up
            while time.monotonic() - started < TIMEOUT + SLACK:
                sock.sendall(b"X")  # each byte would reset a plain idle timer
                time.sleep(0.2)
                if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    break
        waited = time.monotonic() - started
    assert TIMEOUT - 0.2 < waited < TIMEOUT + SLACK, waited


def test_a_connection_that_sends_nothing_is_closed(server) -> None:
    with closing(connect(server)) as sock:
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - started < TIMEOUT + SLACK


def test_a_half_sent_body_gets_408(server) -> None:
    with closing(connect(server)) as sock:
        sock.sendall(
            b"POST /api/demos/counter/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"steps": '
        )
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"did not arrive in time" in answer


def test_an_event_stream_nobody_reads_is_dropped(server) -> None:
    # 150 KB of events a second, in batches well under the worker pipe's 64 KiB: within a few
    # seconds more than the server's buffers for one client hold.
    params = {"steps": 100_000, "pad": 100, "pace": 1000}
    response = httpx.post(f"{server.base}/api/demos/counter/runs", json=params, timeout=10)
    run_id = response.json()["id"]
    with closing(connect(server, receive_buffer=4096)) as sock:
        sock.sendall(f"GET /api/runs/{run_id}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        # Never read: the server's buffers fill, its writes block, and after TIMEOUT it lets go.
        # It drops the connection with a reset, which the socket reports without being read.
        deadline = time.monotonic() + 30
        while not (dropped := sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert dropped, "the stalled stream was never dropped"
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
