"""Provider webhooks: verified, deduplicated by event id, answered so the provider retries when it should.

`POST /webhooks/stripe` is the service's hot path. `WebhookFastPath`, a plain
ASGI middleware, serves it before FastAPI's routing and dependency
injection; the FastAPI route below only documents it in the OpenAPI
document (and serves it if the middleware is left out). Both call
`handle_webhook`.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..providers.base import InvalidWebhook, PaymentProvider
from ..services.payment_events import PaymentEvents

router = APIRouter(tags=["webhooks"])
log = structlog.get_logger(__name__)
PATH = "/webhooks/stripe"
# What is kept of a request's headers with its body: enough to check and replay it, nothing private.
KEPT_HEADERS = ("stripe-signature", "content-type", "user-agent", "content-length")
MAX_BODY_BYTES = 512 * 1024


async def handle_webhook(provider: PaymentProvider, events: PaymentEvents, body: bytes,
                         headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """200 when applied, ignored or already seen; 400 when forged or malformed; 500 so Stripe retries."""
    kept_headers = orjson.dumps({name: headers.get(name) for name in KEPT_HEADERS if headers.get(name)}).decode()
    if len(body) > MAX_BODY_BYTES:
        events.store_rejected(body[:4096], kept_headers, "body too large (first 4 KiB kept)")
        return 400, {"error": {"code": "too_large", "message": "webhook body too large"}}
    try:
        notice = await provider.read_webhook(body, headers)
    except InvalidWebhook as exc:
        log.warning("webhook_rejected", reason=str(exc))
        events.store_rejected(body, kept_headers, str(exc))
        return 400, {"error": {"code": "invalid_webhook", "message": str(exc)}}
    notice = replace(notice, request_headers=kept_headers)
    try:
        outcome = await events.accept_notice(notice)
    except Exception:  # noqa: BLE001 - rolled back; a 5xx makes Stripe deliver it again
        log.exception("webhook_processing_failed", event_id=notice.event_id, type=notice.type)
        events.store_failed(notice, traceback.format_exc(limit=20))
        return 500, {"error": {"code": "processing_failed",
                               "message": "the event could not be processed; it will be retried"}}
    return 200, {"received": True, "outcome": outcome}


@router.post(PATH, responses={400: {"description": "Bad signature or malformed event; nothing changed"},
                              500: {"description": "Not processed (rolled back); Stripe will retry"}})
async def stripe_webhook(request: Request) -> JSONResponse:
    """200 when applied, ignored or already seen; 400 when forged or malformed; 500 so Stripe retries."""
    status, answer = await handle_webhook(request.app.state.provider, request.app.state.payment_events,
                                          await request.body(), request.headers)
    return JSONResponse(answer, status)


class WebhookFastPath:
    def __init__(self, app: ASGIApp, provider: PaymentProvider, events: PaymentEvents) -> None:
        self.app, self._provider, self._events = app, provider, events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY_BYTES:  # past the limit, read on (to answer) but keep nothing
                chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks) if size <= MAX_BODY_BYTES else b"\0" * (MAX_BODY_BYTES + 1)
        status, answer = await handle_webhook(self._provider, self._events, body, Headers(scope=scope))
        content = orjson.dumps(answer)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})
