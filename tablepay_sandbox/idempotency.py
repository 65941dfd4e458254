"""Stripe's request envelope for /v1: API-key auth, Request-Id, Idempotency-Key.

A pure ASGI middleware so it sees the raw body and the complete response:
replays must be byte-identical, which only works below the routing layer.

Idempotency keys are scoped by API key, as at Stripe; the sandbox keeps only the
key's sha256 for that (in its store and in memory), never the key itself: a key
pasted into the sandbox by mistake, even a live one, is not written to disk.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import forms, objects
from .errors import StripeError, authentication, idempotency
from .runtime import Runtime

REPLAY_WINDOW = 24 * 3600.0  # Stripe keeps idempotency keys for at least 24 hours
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api"
    "#authentication for details, or we can help at https://support.stripe.com/."
)


def _mask(key: str) -> str:
    prefix = key[:8] if key.count("_") >= 2 else key[:3]
    return f"{prefix}****{key[-4:]}" if len(key) > 12 else "****"


def api_key_from(headers: Headers) -> str:
    """Bearer (the SDK) or Basic with the key as user name (curl -u sk_test_...:)."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    key = ""
    if scheme.lower() == "bearer":
        key = value.strip()
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(value.strip()).decode("utf-8").partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    if not key:
        raise authentication(_NO_KEY)
    if not key.startswith("sk_test_") or len(key) <= len("sk_test_"):
        raise authentication(f"Invalid API Key provided: {_mask(key)}")
    return key


def key_digest(api_key: str) -> str:
    """What the sandbox keeps of an API key. Looked up by equality in SQLite: a digest
    of a secret leaks nothing through the lookup's timing, so no compare_digest is needed."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class StripeEnvelope:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self._in_flight: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = objects.new_id("req_", 14)
        idem_key = headers.get("idempotency-key") if scope["method"] == "POST" else None
        extra = {"request-id": request_id, **({"idempotency-key": idem_key} if idem_key else {})}
        try:
            key_sha256 = key_digest(api_key_from(headers))
        except StripeError as exc:
            await JSONResponse(exc.body(), exc.status, headers=extra)(scope, receive, send)
            return
        api_version = headers.get("stripe-version") or objects.DEFAULT_API_VERSION
        extra["stripe-version"] = api_version  # Stripe echoes the version it answered with
        state = scope.setdefault("state", {})
        state.update(request_id=request_id, idempotency_key=idem_key, api_version=api_version)
        if not idem_key:
            await self.app(scope, receive, with_headers(send, extra))
            return
        await self._idempotent(scope, receive, send, key_sha256, idem_key, extra)

    async def _idempotent(
        self, scope: Scope, receive: Receive, send: Send, key_sha256: str, key: str, extra: dict[str, str]
    ) -> None:
        body = await read_body(receive)
        params = forms.decode(scope.get("query_string", b"")) | forms.decode(body)
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
        fingerprint = f"{scope['method']} {scope['path']}\n{digest}"
        store = self.runtime.sandbox.store
        stored = store.idempotent_result(key_sha256, key, REPLAY_WINDOW)
        error: StripeError | None = None
        if stored is not None:
            first_path = stored["request_hash"].split("\n")[0]
            if first_path != fingerprint.split("\n")[0]:
                error = idempotency(
                    "Keys for idempotent requests can only be used for the same endpoint they "
                    f"were first used for ('{first_path}' vs '{fingerprint.split(chr(10))[0]}'). "
                    f"Try using a key other than '{key}' if you meant to execute a different "
                    "request."
                )
            elif stored["request_hash"] != fingerprint:
                error = idempotency(
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request."
                )
            else:
                replay = Response(
                    stored["body"],
                    stored["status"],
                    media_type="application/json",
                    headers={**extra, "idempotent-replayed": "true"},
                )
                await replay(scope, receive, send)
                return
        elif (key_sha256, key) in self._in_flight:
            error = idempotency(
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still going "
                "through): " + key + ". Please try again later.",
                status=409,
            )
        if error is not None:
            await JSONResponse(error.body(), error.status, headers=extra)(scope, receive, send)
            return

        self._in_flight.add((key_sha256, key))
        try:
            status, answer = await run_with_body(self.app, scope, body, with_headers(send, extra))
        finally:
            self._in_flight.discard((key_sha256, key))
        # Stripe saves a result once the endpoint ran (success or a card decline); validation
        # errors and server errors are not saved, so a corrected retry with the same key works.
        if 200 <= status < 300 or status == 402:
            store.store_idempotent(key_sha256, key, fingerprint, status, answer.decode("utf-8"))


def with_headers(send: Send, extra: dict[str, str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in extra.items():
                headers[name] = value
        await send(message)

    return wrapped


async def read_body(receive: Receive) -> bytes:
    """The whole request body, read below the routing layer (the app then gets it replayed)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def run_with_body(app: ASGIApp, scope: Scope, body: bytes, send: Send) -> tuple[int, bytes]:
    """Run `app` on an already-read `body`, passing its answer on; returns (status, body) as sent."""
    sent = False

    async def replay_body() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    captured: dict[str, Any] = {"status": 500, "body": b""}

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured["status"] = message["status"]
        elif message["type"] == "http.response.body":
            captured["body"] += message.get("body", b"")
        await send(message)

    await app(scope, replay_body, capture)
    return int(captured["status"]), bytes(captured["body"])
