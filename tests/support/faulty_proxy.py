"""A loopback HTTP proxy in front of the real sync service: it can answer one route malformed, and spread
requests over several instances round-robin, as a load balancer in front of chain mode does.

The service never answers malformed; a broken build, a proxy in between or a future version might.
The kiosk's view models must come out of it with a way out on screen (issue 12), so the test puts
this between the kiosk and the service and breaks one route at a time.

With several upstreams (chain mode, issue 14) each request goes to the next one in turn; an upstream
that refuses the connection (an instance killed, or still starting) is skipped for the next, as
nginx's `proxy_next_upstream error` does. A request already sent to an instance that then dies is not
sent again (it may have been applied): the caller gets 502 and retries, like the provider's webhook
delivery and the kiosk do behind a real load balancer.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Fault:
    method: str
    path: str  # a regular expression matched against the whole path
    status: int
    body: bytes


class FaultyProxy:
    def __init__(self, upstream: str | Sequence[str]) -> None:
        self.fault: Fault | None = None
        self.url = ""  # where it is served, once it is (set by whoever serves it)
        self.hits = 0  # requests answered with the fault
        self.upstreams = [upstream] if isinstance(upstream, str) else list(upstream)
        self.forwarded: Counter[str] = Counter()  # requests answered by each upstream
        self.skipped = 0  # connections refused, tried on the next upstream
        self.failed = 0  # requests answered 502: no upstream took them, or theirs died meanwhile
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self._client: httpx.AsyncClient | None = None
        self.app = Starlette(
            routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])],
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=httpx.Timeout(90, connect=2), limits=limits) as client:
            self._client = client
            yield

    def break_route(self, method: str, path: str, status: int, body: bytes) -> None:
        self.fault = Fault(method, path, status, body)

    async def _forward(self, request: Request) -> Response:
        fault = self.fault
        if fault and request.method == fault.method and re.fullmatch(fault.path, request.url.path):
            self.hits += 1
            return Response(fault.body, fault.status, media_type="application/json")
        assert self._client is not None
        try:
            body = await request.body()
        except ClientDisconnect:  # the caller gave up (a webhook timing out) before it had sent the body
            return Response(b"", 400)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        first = next(self._turn)
        for offset in range(len(self.upstreams)):
            upstream = self.upstreams[(first + offset) % len(self.upstreams)]
            try:
                answer = await self._client.request(
                    request.method,
                    upstream + request.url.path,
                    params=request.query_params,
                    content=body,
                    headers=headers,
                )
            except httpx.ConnectError:  # nothing listens there now: the next one
                self.skipped += 1
                continue
            except httpx.TransportError as exc:  # sent, then the instance went away: maybe applied
                self.failed += 1
                return Response(f"upstream {upstream} failed: {type(exc).__name__}".encode(), 502)
            self.forwarded[upstream] += 1
            return Response(
                answer.content,
                answer.status_code,
                headers={k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "www-authenticate")},
            )
        self.failed += 1
        return Response(b"no upstream is listening", 502)
