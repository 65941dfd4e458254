"""A closed-loop HTTP/1.1 load generator on raw asyncio sockets.

Requests are complete bytes built beforehand and sent with one write, so the
client's own cost per request is a write, a header parse and a read: small
next to any server in Python, which keeps the numbers about the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field

HOST = "127.0.0.1"
RESPONSE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader) -> Response:
    """Status line, headers and a Content-Length body (all our servers send one)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ValueError(f"response without Content-Length: {lines[0]!r} {headers}")
    body = await reader.readexactly(int(headers["content-length"]))
    return Response(status, headers, body)


async def request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> Response:
    writer.write(data)  # one write per request: the whole request in one go
    return await asyncio.wait_for(read_response(reader), RESPONSE_TIMEOUT_SECONDS)


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, one per completed request
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # ours says what it did: applied, duplicate, ...
    failures: list[str] = field(default_factory=list)  # transport errors and the first bad bodies
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds this process used meanwhile: near `elapsed` means the client was the limit
    planned: int = 0

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        """Non-200 answers, plus requests that never got an answer."""
        return sum(n for status, n in self.statuses.items() if status != 200) + (self.planned - self.completed)

    @property
    def throughput(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def closed_loop(
    port: int,
    requests: list[bytes],
    *,
    connections: int,
    time_limit: float,
    stop: asyncio.Event | None = None,
    cycle: bool = False,
) -> LoadResult:
    """Send `requests` over `connections` keep-alive sockets, each waiting for its answer before the next.

    Stops when the list is done (or, with `cycle`, when `stop` is set), or after `time_limit` seconds.
    """
    result = LoadResult(planned=0 if cycle else len(requests))
    next_index = 0
    deadline = time.perf_counter() + time_limit

    async def worker() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline and not (stop and stop.is_set()):
                if next_index >= len(requests) and not cycle:
                    return
                data = requests[next_index % len(requests)]
                next_index += 1
                started = time.perf_counter()
                try:
                    response = await request(reader, writer, data)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                    result.failures.append(f"{type(exc).__name__}: {exc}")
                    return
                result.latencies.append(time.perf_counter() - started)
                result.statuses[response.status] += 1
                if b'"outcome"' in response.body:
                    result.outcomes[str(json.loads(response.body).get("outcome"))] += 1
                if response.status != 200 and len(result.failures) < 5:
                    result.failures.append(f"{response.status}: {response.body[:200]!r}")
                if cycle:
                    result.planned += 1
                if response.headers.get("connection", "").lower() == "close":
                    result.failures.append("server closed the keep-alive connection")
                    return
        finally:
            writer.close()

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    result.client_cpu = time.process_time() - cpu_started
    return result
