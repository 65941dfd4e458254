"""Run a real ASGI app under uvicorn on 127.0.0.1 in a background thread.

Ports are bound, never guessed: a server serves on a socket the test bound first and keeps
open (`bound_socket()`, port 0: the OS picks a free one), so no other process can take the
port between choosing it and listening on it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import uvicorn

from .waiting import eventually


def bound_socket(port: int = 0, *, shared: bool = True) -> socket.socket:
    """A TCP socket bound to 127.0.0.1:`port` (0: a free port the OS picks), not yet listening.

    `shared` (SO_REUSEADDR, as uvicorn's own sockets have it): the port can be bound again for a
    restart on the same address while the old server's connections linger in TIME_WAIT.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def refused_url() -> Iterator[str]:
    """`http://127.0.0.1:<port>` where nothing listens: connections are refused for as long as the
    block runs. The port stays bound, never listening and not shared (no SO_REUSEADDR), so no other
    server can appear there meanwhile."""
    with bound_socket(shared=False) as sock:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


class _Server(uvicorn.Server):
    """Remembers its loop, so a test can run a coroutine where the app lives."""

    loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


class LiveServer:
    """`with LiveServer(app) as server: httpx.get(server.url + "/healthz")`.

    `sock`: serve on this bound socket (when the app must know its own address before it is
    built, bind first: `sock = bound_socket()`). `port`: bind that port again, so a test can stop
    a server and start another on the same address (a restart, as a crash would cause).
    The server owns the socket from here on and closes it when it stops.
    """

    def __init__(
        self,
        app: object,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        tls: tuple[str, str] | None = None,
    ) -> None:
        """`tls` = (certificate chain PEM path, private key PEM path) to serve HTTPS."""
        assert port is None or sock is None, "a port or a socket, not both"
        self._sock = sock or bound_socket(port or 0)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            ssl_certfile=tls[0] if tls else None,
            ssl_keyfile=tls[1] if tls else None,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        eventually(
            lambda: self._server.started or not self._thread.is_alive(),
            timeout=15,
            interval=0.01,
            message=f"the server on {self.url} starting",
        )
        if not self._server.started:
            raise RuntimeError(f"server on {self.url} did not start")
        return self

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._server.loop is not None
        return self._server.loop

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's own loop (where its SQLite connection is used)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()  # uvicorn closed it already when it served; not when it never started

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
