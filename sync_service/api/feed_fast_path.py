"""`GET /v1/events` served in as few event-loop turns as the long poll allows.

A kiosk feels the feed's push latency most while the service is busy (a webhook burst): every
turn of the loop then costs milliseconds. Through FastAPI a woken poll took a dozen turns (a
thread hop for the token dependency, tasks for the disconnect and revocation watchers, their
cancellation, the response model); here it is one future, settled by the notifier, a timer, the
revocation check or the kiosk hanging up, then one query and the answer.

Anything this path is not sure of (a missing or unknown token, a parameter FastAPI would refuse
or read differently) falls through to the FastAPI route in kiosk_routes.py, which answers it
exactly as documented; a token revoked while its poll waits gets that route's 401.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from ..services.feed import FeedNotifier, for_kiosk
from ..storage.repository import Repository
from .auth import TOKEN_REQUIRED, token_hash

PATH = "/v1/events"
MAX_SEQ, MAX_WAIT, MAX_LIMIT, DEFAULT_LIMIT = 2**63 - 1, 60.0, 500, 100
REVOCATION_CHECK_SECONDS = 1.0
_DIGITS = re.compile(r"[0-9]{1,19}")
_SECONDS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?")


def _query(raw: bytes) -> tuple[int, float, int, bool] | None:
    """(after, wait, limit, every event) when every one is plainly valid; None lets FastAPI answer (422,
    or read it)."""
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        return None
    values = dict(pairs)
    if len(values) != len(pairs):
        return None  # a repeated parameter: FastAPI's reading decides
    after, wait, limit = values.get("after", "0"), values.get("wait", "0"), values.get("limit", str(DEFAULT_LIMIT))
    if not (_DIGITS.fullmatch(after) and _SECONDS.fullmatch(wait) and _DIGITS.fullmatch(limit)):
        return None
    events = values.get("events", "payments")
    if events not in ("payments", "all"):
        return None
    parsed = int(after), float(wait), int(limit)
    if parsed[0] > MAX_SEQ or parsed[1] > MAX_WAIT or not 1 <= parsed[2] <= MAX_LIMIT:
        return None
    return (*parsed, events == "all")


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class FeedFastPath:
    def __init__(self, app: ASGIApp, repo: Repository, notifier: FeedNotifier) -> None:
        self.app, self._repo, self._notifier = app, repo, notifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        query, token = _query(scope.get("query_string", b"")), _bearer(scope)
        hashed = token_hash(token) if token else None
        kiosk_id = self._repo.kiosk_for_token_hash(hashed) if hashed else None
        if query is None or kiosk_id is None or hashed is None:
            await self.app(scope, receive, send)
            return
        after, wait, limit, every = query
        outcome = await self._poll(kiosk_id, hashed, after, wait, limit, receive)
        if outcome == "gone":
            return
        if outcome == "revoked":
            await _answer(
                send,
                401,
                {"error": {"code": "unauthorized", "message": TOKEN_REQUIRED}},
                [(b"www-authenticate", b"Bearer")],
            )
            return
        assert not isinstance(outcome, str)
        next_after = outcome[-1]["seq"] if outcome else after  # past the events left out, too
        rows = for_kiosk(outcome, every=every)
        for row in rows:
            row.pop("kiosk_id", None)
        await _answer(send, 200, {"events": rows, "next_after": next_after})

    async def _poll(
        self, kiosk_id: str, hashed: str, after: int, wait: float, limit: int, receive: Receive
    ) -> list[dict[str, Any]] | str:
        """The rows, or "gone" (the kiosk hung up) or "revoked" (its token, while it waited)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        watcher: asyncio.Task[None] | None = None
        hung_up = loop.create_future()
        try:
            while True:
                rows = self._repo.feed_after(after, limit, kiosk_id)
                remaining = deadline - loop.time()
                if rows or remaining <= 0:
                    return rows
                if watcher is None:
                    watcher = loop.create_task(_until_disconnect(receive, hung_up))
                reason = await self._wake(kiosk_id, hashed, remaining, hung_up)
                if reason in ("gone", "revoked"):
                    return reason
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _wake(self, kiosk_id: str, hashed: str, remaining: float, hung_up: asyncio.Future[str]) -> str:
        """Wait for the first of: a change for this kiosk, the deadline, a hang-up, a revoked token."""
        loop = asyncio.get_running_loop()
        # The notifier settles this very future (with None: "changed"), so a change wakes the poll
        # in one turn; the other reasons settle it with their name.
        woken: asyncio.Future[str | None] = loop.create_future()

        def settle(reason: str) -> None:
            if not woken.done():
                woken.set_result(reason)

        def check_token() -> None:
            if self._repo.kiosk_for_token_hash(hashed) != kiosk_id:
                settle("revoked")
            elif not woken.done():
                handles.append(loop.call_later(REVOCATION_CHECK_SECONDS, check_token))

        def on_hang_up(_: asyncio.Future[str]) -> None:
            settle("gone")

        self._notifier.subscribe(kiosk_id, woken)
        hung_up.add_done_callback(on_hang_up)
        handles = [
            loop.call_later(remaining, settle, "deadline"),
            loop.call_later(REVOCATION_CHECK_SECONDS, check_token),
        ]
        try:
            return await woken or "changed"
        finally:
            for handle in handles:
                handle.cancel()
            hung_up.remove_done_callback(on_hang_up)
            self._notifier.unsubscribe(kiosk_id, woken)


async def _until_disconnect(receive: Receive, hung_up: asyncio.Future[str]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    if not hung_up.done():
        hung_up.set_result("gone")


async def _answer(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    content = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
