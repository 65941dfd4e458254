"""Mollie's request envelope for /v2: test-key auth, injected faults, Idempotency-Key.

A pure ASGI middleware, like the Stripe part's (`..idempotency`), whose body and capture
helpers it uses: a replay must repeat the first answer exactly. Of an API key only its
sha256 is kept, and idempotency is scoped by it. The sandbox never takes a live key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import forms
from ..idempotency import key_digest, read_body, run_with_body
from .errors import HAL, MollieError
from .runtime import Mollie

REPLAY_WINDOW = 3600.0  # Mollie keeps an idempotency key's result for one hour
_TEST_KEY = re.compile(r"^test_\w+$")
_FAULT_DETAIL = {
    503: "The service is temporarily unavailable (a sandbox fault).",
    429: "You have made too many requests (a sandbox fault). Please slow down.",
}


def _api_key(headers: Headers) -> str:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    key = value.strip() if scheme.lower() == "bearer" else ""
    if not _TEST_KEY.match(key):
        raise MollieError(401, "Missing authentication, or failed to authenticate")
    return key


def _fingerprint(scope: Scope, body: bytes) -> str:
    """The endpoint, then a digest of the parameters (JSON or form, parsed, so key order does not matter)."""
    try:
        params = json.loads(body) if body.strip() else {}
    except ValueError:
        params = forms.decode(body)
    query = scope.get("query_string", b"").decode("latin-1")
    digest = hashlib.sha256(json.dumps([query, params], sort_keys=True).encode()).hexdigest()
    return f"{scope['method']} {scope['path']}\n{digest}"


class MollieEnvelope:
    def __init__(self, app: ASGIApp, mollie: Mollie) -> None:
        self.app = app
        self.mollie = mollie
        self._in_flight: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v2/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            key_sha256 = key_digest(_api_key(headers))
        except MollieError as exc:
            await exc.response()(scope, receive, send)
            return
        faults = self.mollie.faults
        if faults.fail_next:
            faults.fail_next -= 1
            status = faults.fail_status
            await MollieError(status, _FAULT_DETAIL[status]).response()(scope, receive, send)
            return
        if faults.delay_next:
            faults.delay_next -= 1
            send = _delayed(send, faults.delay_seconds)  # applied now, answered late: the nasty kind of slow
        idem_key = headers.get("idempotency-key") if scope["method"] == "POST" else None
        if not idem_key:
            await self.app(scope, receive, send)
            return
        await self._idempotent(scope, receive, send, key_sha256, idem_key)

    async def _idempotent(self, scope: Scope, receive: Receive, send: Send, key_sha256: str, key: str) -> None:
        if (key_sha256, key) in self._in_flight:
            detail = f"A request with the idempotency key '{key}' is still being processed."
            await MollieError(409, detail).response()(scope, receive, send)
            return
        # Marked in flight before the first await, so a duplicate can never slip in between.
        self._in_flight.add((key_sha256, key))
        try:
            await self._once(scope, receive, send, key_sha256, key)
        finally:
            self._in_flight.discard((key_sha256, key))

    async def _once(self, scope: Scope, receive: Receive, send: Send, key_sha256: str, key: str) -> None:
        body = await read_body(receive)
        fingerprint = _fingerprint(scope, body)
        store = self.mollie.store
        stored = store.idempotent_result(key_sha256, key, REPLAY_WINDOW)
        if stored is not None and stored["request_hash"] != fingerprint:
            detail = (
                f"The idempotency key '{key}' was already used for another request "
                "(a different endpoint or different parameters)."
            )
            await MollieError(400, detail).response()(scope, receive, send)
            return
        if stored is not None:
            replay = Response(stored["body"], stored["status"], media_type=HAL, headers={"idempotent-replayed": "true"})
            await replay(scope, receive, send)
            return
        status, answer = await run_with_body(self.app, scope, body, send)
        # A result is kept once the endpoint decided (created, or refused the request); a conflict,
        # throttling or server error is not, so retrying with the same key can still succeed.
        if status < 500 and status not in (409, 429):
            store.store_idempotent(key_sha256, key, fingerprint, status, answer.decode("utf-8"))


def _delayed(send: Send, seconds: float) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(seconds)
        await send(message)

    return wrapped
