"""Serve the app with uvicorn, so that slow or idle connections cannot starve it of file descriptors.

uvicorn closes idle kept-alive connections (`timeout_keep_alive`) but has no
timeout for reading request headers, and its `limit_concurrency` answers 503,
which would fail the health checks it is meant to protect. Here uvicorn's
HTTP protocol (httptools, else h11: what `http="auto"` picks) is subclassed
to:

* close a connection whose request headers are not complete within
  `header_timeout` seconds (the first request, and each next one on a
  kept-alive connection) or pass MAX_HEADER_BYTES;
* count open connections against a cap below the process's open-file limit,
  leaving a reserve for the database, the checkpointer, logs and outbound
  HTTP to Stripe and the POS. At the cap a new connection evicts the oldest
  one still waiting for headers (a slow sender or an idle keep-alive); when
  every connection is inside a request (long polls), the newcomer is closed.

A request whose headers are complete is never timed out or evicted here, so
long polls (GET /v1/events?wait=60) and /healthz keep working.
"""

from __future__ import annotations

import asyncio
import resource
from collections import OrderedDict
from typing import Any

import structlog
import uvicorn

from .settings import Settings

log = structlog.get_logger(__name__)

MAX_HEADER_BYTES = 64 * 1024  # of one request's line and headers (h11's own default is 16 KiB)
RESERVED_FDS_MIN = 64  # file descriptors kept for everything but incoming connections, at least
NOFILE_WANTED = 65536  # what the soft limit is raised to when the hard limit is unlimited


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = NOFILE_WANTED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:  # e.g. a hard limit above the kernel's nr_open
            log.warning("nofile_not_raised", soft=soft, hard=hard, error=str(exc))
    return NOFILE_WANTED if soft == resource.RLIM_INFINITY else soft


def connection_cap(fd_limit: int) -> int:
    """Connections allowed open at once: the limit less an eighth of it (at least RESERVED_FDS_MIN)."""
    return max(16, fd_limit - max(RESERVED_FDS_MIN, fd_limit // 8))


def accept_backlog(fd_limit: int) -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go before any of
    them can be counted: a quarter of the reserve, so a burst cannot eat it all (uvicorn's 2048 at most)."""
    return max(16, min(2048, (fd_limit - connection_cap(fd_limit)) // 4))


class ConnectionGuard:
    """The open connections, and those still waiting for request headers, oldest first."""

    def __init__(self, cap: int, header_timeout: float) -> None:
        self.cap, self.header_timeout = cap, header_timeout
        self.open = 0
        self._waiting: OrderedDict[int, _Guarded] = OrderedDict()
        self.evicted = self.refused = self.timed_out = 0

    def admit(self) -> bool:
        """Make room for one more connection if there is any to make; False: refuse it."""
        if self.open >= self.cap:
            if not self._waiting:
                self.refused += 1
                if self.refused % 1000 == 1:
                    log.warning("connections_refused", open=self.open, cap=self.cap, refused=self.refused)
                return False
            _, oldest = self._waiting.popitem(last=False)
            oldest.drop()
            self.evicted += 1
            if self.evicted % 1000 == 1:
                log.warning("connections_evicted", open=self.open, cap=self.cap, evicted=self.evicted)
        self.open += 1
        return True

    def waiting(self, conn: _Guarded) -> None:
        self._waiting[id(conn)] = conn

    def busy(self, conn: _Guarded) -> None:
        self._waiting.pop(id(conn), None)

    def closed(self, conn: _Guarded) -> None:
        self.open -= 1
        self._waiting.pop(id(conn), None)


class _Guarded:
    """Mixed in before uvicorn's protocol class (httptools or h11); `guard` is set by `guarded_protocol`."""

    guard: ConnectionGuard
    # uvicorn's protocol attributes this uses:
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    _admitted = False
    _timer: asyncio.TimerHandle | None = None
    _header_bytes = -1  # -1: not waiting for headers

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self.guard.admit():
            transport.close()  # uvicorn never sees it
            return
        self._admitted = True
        super().connection_made(transport)  # type: ignore[misc]  # uvicorn's protocol follows this mixin in the MRO
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        self._stop_timer()
        self.guard.closed(self)
        super().connection_lost(exc)  # type: ignore[misc]  # uvicorn's protocol follows this mixin in the MRO

    def data_received(self, data: bytes) -> None:
        if self._header_bytes >= 0:
            self._header_bytes += len(data)
        super().data_received(data)  # type: ignore[misc]  # uvicorn's protocol follows this mixin in the MRO
        if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self.drop()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]  # uvicorn's protocol follows this mixin in the MRO
        if self.cycle is None or self.cycle.response_complete:  # not a pipelined request started
            self._await_headers()

    def _await_headers(self) -> None:
        if self.transport.is_closing():
            return
        self._header_bytes = 0
        self._stop_timer()
        self._timer = self.loop.call_later(self.guard.header_timeout, self._headers_too_slow)
        self.guard.waiting(self)

    def _headers_complete(self) -> None:
        self._header_bytes = -1
        self._stop_timer()
        self.guard.busy(self)

    def _headers_too_slow(self) -> None:
        self._timer = None
        if self._header_bytes >= 0:
            self.guard.timed_out += 1
            self.drop()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def drop(self) -> None:
        """Close a connection that has no request running (its fd is freed on the next loop turn)."""
        self._header_bytes = -1
        self._stop_timer()
        self.guard.busy(self)
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[asyncio.Protocol]:
    """uvicorn's auto-chosen HTTP protocol, guarded."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
        from uvicorn.protocols.http.h11_impl import H11Protocol

        class GuardedH11(_Guarded, H11Protocol):
            def handle_events(self) -> None:
                before = self.cycle
                super().handle_events()
                if self.cycle is not before:  # an h11.Request: its headers are complete
                    self._headers_complete()

        GuardedH11.guard = guard
        return GuardedH11

    class GuardedHttpTools(_Guarded, HttpToolsProtocol):
        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._headers_complete()

    GuardedHttpTools.guard = guard
    return GuardedHttpTools


def run(app: Any, settings: Settings, host: str, port: int) -> None:
    """uvicorn.run with the guarded protocol, the keep-alive timeout and a backlog fitted to the fd limit."""
    fd_limit = raise_open_file_limit()
    guard = ConnectionGuard(connection_cap(fd_limit), settings.header_timeout_seconds)
    log.info(
        "connection_limits",
        open_files=fd_limit,
        max_connections=guard.cap,
        header_timeout=settings.header_timeout_seconds,
        keep_alive=settings.keep_alive_timeout_seconds,
    )
    # log_config=None: uvicorn's own records go to the root logger, rendered like ours (logs.py)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http=guarded_protocol(guard),
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        backlog=accept_backlog(fd_limit),
        log_config=None,
    )
