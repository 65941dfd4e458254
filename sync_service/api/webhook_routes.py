"""Provider webhooks: verified, deduplicated by event id, answered so the provider retries when it should.

`POST /webhooks/stripe` is the service's hot path. `WebhookFastPath`, a plain
ASGI middleware, serves it before FastAPI's routing and dependency
injection; the FastAPI route below only documents it in the OpenAPI
document (and serves it if the middleware is left out). Both call
`handle_webhook`.

A forged request costs us little: it is kept as its headers, its size, the
sha256 of its body and at most the body's first REJECTED_HEAD_BYTES, within
the caps of `PaymentEvents.store_rejected`; past its source's budget
(source_budget.py) it is answered 429 and only counted. A body over
MAX_BODY_BYTES is never buffered past that limit, and the outer body limit
(body_limit.py) cuts it off at READ_LIMIT_BYTES.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..providers.base import InvalidWebhook, PaymentProvider
from ..services.payment_events import PaymentEvents, RejectedRequest
from .source_budget import SourceBudget

router = APIRouter(tags=["webhooks"])
log = structlog.get_logger(__name__)
PATH = "/webhooks/stripe"
# What is kept of a request's headers with its body: enough to check and replay it, nothing private.
KEPT_HEADERS = ("stripe-signature", "content-type", "user-agent", "content-length")
KEPT_HEADER_CHARS = 300  # of each, so a forged header cannot fill the table (a real signature is ~150)
MAX_BODY_BYTES = 512 * 1024  # a larger webhook is rejected; Stripe's are a few KiB
READ_LIMIT_BYTES = 1024 * 1024  # a larger one is cut off at the door (413) and not stored at all
REJECTED_HEAD_BYTES = 1024  # of a rejected body, only the first bytes are kept


@dataclass(frozen=True)
class Received:
    """A webhook body as read: whole when within MAX_BODY_BYTES, else its first bytes, size and hash."""

    body: bytes
    size: int
    sha256: str | None = None  # of the whole body; computed while streaming when it is too large

    @classmethod
    def whole(cls, body: bytes) -> Received:
        return cls(body, len(body))

    @property
    def too_large(self) -> bool:
        return self.size > MAX_BODY_BYTES


def _kept_headers(headers: Mapping[str, str]) -> str:
    return orjson.dumps(
        {name: value[:KEPT_HEADER_CHARS] for name in KEPT_HEADERS if (value := headers.get(name))}
    ).decode()


async def handle_webhook(
    provider: PaymentProvider,
    events: PaymentEvents,
    received: Received,
    headers: Mapping[str, str],
    *,
    source: str | None,
    budget: SourceBudget,
) -> tuple[int, dict[str, Any]]:
    """200 when applied, ignored or already seen; 400 when forged or malformed (429 past the source's
    budget of stored rejections); 500 so Stripe retries."""
    kept_headers = _kept_headers(headers)
    if received.too_large:
        return _reject(
            events,
            budget,
            source,
            received,
            kept_headers,
            "too_large",
            f"body too large ({received.size} bytes; first {REJECTED_HEAD_BYTES} kept)",
        )
    try:
        notice = await provider.read_webhook(received.body, headers)
    except InvalidWebhook as exc:
        if exc.authenticated:  # signed by Stripe but unreadable: kept whole, outside the forgery caps
            log.warning("webhook_malformed", reason=str(exc))
            events.store_malformed(received.body, kept_headers, str(exc))
            return 400, {"error": {"code": "invalid_webhook", "message": str(exc)}}
        return _reject(events, budget, source, received, kept_headers, "invalid_webhook", str(exc))
    notice = replace(notice, request_headers=kept_headers)
    try:
        outcome = await events.accept_notice(notice)
    except Exception:
        log.exception("webhook_processing_failed", event_id=notice.event_id, type=notice.type)
        events.store_failed(notice, traceback.format_exc(limit=20))
        return 500, {
            "error": {"code": "processing_failed", "message": "the event could not be processed; it will be retried"}
        }
    return 200, {"received": True, "outcome": outcome}


def _reject(
    events: PaymentEvents,
    budget: SourceBudget,
    source: str | None,
    received: Received,
    kept_headers: str,
    code: str,
    reason: str,
) -> tuple[int, dict[str, Any]]:
    """Keep what a forged request looks like, unless its source has used up its budget."""
    if not budget.take(source):
        if budget.refused % 1000 == 1:  # a flood: one line per thousand, not one per request
            log.warning("webhook_rejections_not_stored", source=source, refused_since_start=budget.refused)
        return 429, {"error": {"code": "rate_limited", "message": "too many rejected webhooks from this address"}}
    log.warning("webhook_rejected", reason=reason, source=source)
    events.store_rejected(
        RejectedRequest(
            head=received.body[:REJECTED_HEAD_BYTES],
            size=received.size,
            sha256=received.sha256 or hashlib.sha256(received.body).hexdigest(),
            headers=kept_headers,
            reason=reason,
        )
    )
    return 400, {"error": {"code": code, "message": reason if code == "invalid_webhook" else "webhook body too large"}}


@router.post(
    PATH,
    responses={
        400: {"description": "Bad signature or malformed event; nothing changed"},
        500: {"description": "Not processed (rolled back); Stripe will retry"},
    },
)
async def stripe_webhook(request: Request) -> JSONResponse:
    """200 when applied, ignored or already seen; 400 when forged or malformed; 500 so Stripe retries."""
    state = request.app.state
    status, answer = await handle_webhook(
        state.provider,
        state.payment_events,
        Received.whole(await request.body()),
        request.headers,
        source=request.client.host if request.client else None,
        budget=state.rejected_budget,
    )
    return JSONResponse(answer, status)


class WebhookFastPath:
    def __init__(self, app: ASGIApp, provider: PaymentProvider, events: PaymentEvents, budget: SourceBudget) -> None:
        self.app, self._provider, self._events, self._budget = app, provider, events, budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        received = await _read(receive)
        if received is None:
            return
        client = scope.get("client")
        status, answer = await handle_webhook(
            self._provider,
            self._events,
            received,
            Headers(scope=scope),
            source=client[0] if client else None,
            budget=self._budget,
        )
        content = orjson.dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})


async def _read(receive: Receive) -> Received | None:
    """The body, whole up to MAX_BODY_BYTES; past it only its first bytes, its size and its hash. None: gone."""
    chunks: list[bytes] = []
    size, more = 0, True
    hasher: Any = None  # hashlib's sha256, once the body is too large to keep
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if hasher is not None:
            hasher.update(chunk)
        else:
            chunks.append(chunk)
            if size > MAX_BODY_BYTES:  # stop buffering: keep the head, hash the rest as it streams
                kept = b"".join(chunks)
                hasher = hashlib.sha256(kept)
                chunks = [kept[:REJECTED_HEAD_BYTES]]
        more = message.get("more_body", False)
    if hasher is None:
        return Received.whole(chunks[0] if len(chunks) == 1 else b"".join(chunks))
    return Received(chunks[0], size, hasher.hexdigest())
