"""A loopback HTTP proxy in front of the real sync service that can answer one route malformed.

The service never answers like this; a broken build, a proxy in between or a future version might.
The kiosk's view models must come out of it with a way out on screen (issue 12), so the test puts
this between the kiosk and the service and breaks one route at a time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Fault:
    method: str
    path: str  # a regular expression matched against the whole path
    status: int
    body: bytes


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.fault: Fault | None = None
        self.url = ""  # where it is served, once it is (set by whoever serves it)
        self.hits = 0
        self._upstream = upstream
        self._client: httpx.AsyncClient | None = None
        self.app = Starlette(
            routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])],
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url=self._upstream, timeout=httpx.Timeout(90)) as client:
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
        upstream = await self._client.request(
            request.method,
            request.url.path,
            params=request.query_params,
            content=await request.body(),
            headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")},
        )
        return Response(
            upstream.content,
            upstream.status_code,
            headers={k: v for k, v in upstream.headers.items() if k.lower() in ("content-type", "www-authenticate")},
        )
