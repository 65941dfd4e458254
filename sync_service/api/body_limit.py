"""Refuse a request body over its size limit before any routing, parsing or authentication.

The outermost middleware: a body whose Content-Length is over the limit is
answered 413 at once, without reading a byte of it; a body without one
(chunked) is counted as it streams and the request is cut off, answered 413,
as soon as it passes the limit. Nothing is buffered here: the app below
reads the body as before, this only counts it.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)


class _TooLarge(Exception):
    """Raised from `receive` inside the app once the body passes the limit."""


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header as a number; -1 when it is not one (the server refuses those itself)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


async def refuse_too_large(send: Send, limit: int) -> None:
    content = orjson.dumps({"error": {"code": "too_large", "message": f"request body larger than {limit} bytes"}})
    # connection: close, so the server drops the rest of the body instead of reading it to find the next request.
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"connection", b"close"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


class BodyLimit:
    """`limits` maps a path to its own limit (the webhook path); every other path gets `default`."""

    def __init__(self, app: ASGIApp, *, default: int, limits: Mapping[str, int] | None = None) -> None:
        self.app, self._default, self._limits = app, default, dict(limits or {})
        self.refused = 0  # requests answered 413, for the logs and the tests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limits.get(scope["path"], self._default)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, limit)
            return
        if declared is not None:  # the server delivers no more than Content-Length: nothing to count
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received, exceeded, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app makes of the cut-off body, the answer is our 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        self.refused += 1
        if self.refused % 1000 == 1:  # the first, then one line per thousand: a flood does not flood the log
            client = scope.get("client")
            log.warning(
                "request_too_large",
                path=scope["path"],
                limit=limit,
                client=client[0] if client else None,
                refused_since_start=self.refused,
            )
        await refuse_too_large(send, limit)
