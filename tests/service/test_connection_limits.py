"""Unauthenticated traffic costs almost nothing (issue 11): a huge body is refused before it is read,
and slow connections past the open-file limit neither stop health checks nor long polls.

Against the service as a real process, so its memory and its file-descriptor limit are its own."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support.service_process import ServiceProcess, service_process

MiB = 2**20


def _answer(sock: socket.socket, deadline: float) -> tuple[int, dict[str, object]]:
    """Read one HTTP response (status, JSON body) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _send_until_answered(
    sock: socket.socket, head: bytes, body: Iterator[bytes], timeout: float = 10
) -> tuple[int, dict[str, Any], int]:
    """Send `head`, then `body` piece by piece until the server answers; (status, answer, body bytes sent)."""
    sock.sendall(head)
    sent, deadline, pending = 0, time.monotonic() + timeout, b""
    sock.setblocking(False)
    while time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock], [], 0.5)
        if readable:
            break
        if writable:
            pending = pending or next(body, b"")
            if not pending:
                continue  # all sent: wait for the answer
            try:
                n = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent, pending = sent + n, pending[n:]
    sock.setblocking(True)
    status, answer = _answer(sock, deadline)
    return status, answer, sent


def _body(total: int, piece: int = 64 * 1024, *, chunked: bool = False) -> Iterator[bytes]:
    block = b"x" * piece
    for _ in range(total // piece):
        yield f"{piece:x}\r\n".encode() + block + b"\r\n" if chunked else block
    if chunked:
        yield b"0\r\n\r\n"


def test_a_20_mb_body_without_a_token_is_refused_413_before_it_is_read(tmp_path: Path) -> None:
    with service_process(tmp_path) as service:
        assert httpx.post(f"{service.url}/v1/checkouts", json={}, timeout=10).status_code == 401  # warmed up
        rss_before = service.rss_bytes()
        size = 20 * MiB

        with service.connect() as sock:
            started = time.monotonic()
            head = (
                f"POST /v1/checkouts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {size}\r\n\r\n"
            ).encode()
            status, answer, sent = _send_until_answered(sock, head, _body(size))
            assert status == 413 and answer["error"]["code"] == "too_large", answer
            assert time.monotonic() - started < 2 and sent < size // 2  # answered from the header alone

        with service.connect() as sock:  # no Content-Length: counted as it streams, cut off past 1 MiB
            head = (
                b"POST /v1/checkouts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            status, answer, sent = _send_until_answered(sock, head, _body(size, chunked=True))
            assert status == 413 and answer["error"]["code"] == "too_large", answer
            assert sent < size // 2

        assert service.rss_bytes() - rss_before < 8 * MiB  # the 20 MB never sat in the service's memory
        assert httpx.get(f"{service.url}/healthz", timeout=5).status_code == 200


def _healthy_within(service: ServiceProcess, seconds: float) -> bool:
    started = time.monotonic()
    response = httpx.get(f"{service.url}/healthz", timeout=seconds)
    return response.status_code == 200 and time.monotonic() - started < seconds


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_slow_connections_past_the_fd_limit_neither_stop_health_checks_nor_long_polls(tmp_path: Path) -> None:
    limit, header_timeout = 256, 3
    with service_process(tmp_path, open_files=limit, TABLEPAY_HEADER_TIMEOUT=str(header_timeout)) as service:
        polled: list[httpx.Response] = []
        kiosk = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {service.token}"}, timeout=30)
        poll = threading.Thread(target=lambda: polled.append(kiosk.get("/v1/events", params={"wait": 5})))
        poll.start()

        slow: list[socket.socket] = []
        try:
            for _ in range(6):  # 300 slow connections, more than the service may open files
                for _ in range(50):
                    sock = service.connect()
                    sock.sendall(b"GET /v1/ev")  # a request line that never ends
                    slow.append(sock)
                assert _healthy_within(service, 2)
            assert service.open_fds() < limit

            poll.join(timeout=15)
            assert [r.status_code for r in polled] == [200] and polled[0].json()["events"] == []

            # The newest slow ones are still open (within their header timeout) ...
            newest = slow[-20:]
            assert not any(select.select(newest, [], [], 0)[0])
            # ... and are closed once it passes; the older ones were evicted to make room.
            deadline = time.monotonic() + header_timeout + 5
            for sock in slow:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                assert _closed_by_server(sock)
            assert _healthy_within(service, 2)
        finally:
            kiosk.close()
            for sock in slow:
                sock.close()
        assert "Too many open files" not in service.log.read_text()
