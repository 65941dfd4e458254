"""`POST /webhooks/mollie`: the body is only `id=tr_...`; the payment is fetched and applied, never believed.

Mollie signs nothing, so a request proves only that someone knows an id. The
id is looked up among the checkouts we created before Mollie is asked: an id
that is not ours is answered 200 (no leak, no fetch) and kept like a forged
Stripe webhook, within the same caps and per-address budget. An id of ours is
fetched with our key; the fetched payment goes through the same state machine,
deduplicated by what changed. Mollie unreachable: 503, so Mollie calls again
(and the reconciliation sweep covers it). Every request is kept raw.
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import replace

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..providers.base import InvalidWebhook, ProviderError
from ..providers.mollie_gateway import MollieGateway
from ..services.payment_events import PaymentEvents, RejectedRequest
from .webhook_routes import REJECTED_HEAD_BYTES, Received, _kept_headers, _reject

router = APIRouter(tags=["webhooks"])
log = structlog.get_logger(__name__)
PATH = "/webhooks/mollie"


@router.post(
    PATH,
    responses={
        400: {"description": "Not a form body with one Mollie payment id; nothing changed"},
        503: {"description": "Mollie could not be asked about the payment; Mollie will call again"},
    },
)
async def mollie_webhook(request: Request) -> JSONResponse:
    """200 when applied, unchanged, already seen or not ours; 400 when malformed; 503 so Mollie calls again."""
    state = request.app.state
    provider = state.provider
    events: PaymentEvents = state.payment_events
    received = Received.whole(await request.body())
    source = request.client.host if request.client else None
    kept_headers = _kept_headers(request.headers)
    assert isinstance(provider, MollieGateway), "mounted only with TABLEPAY_PROVIDER=mollie"
    if received.too_large:
        status, answer = _reject(
            events, state.rejected_budget, source, received, kept_headers, "too_large", "body too large"
        )
        return JSONResponse(answer, status)
    try:
        payment_id = provider.webhook_subject(received.body)
    except InvalidWebhook as exc:
        status, answer = _reject(
            events, state.rejected_budget, source, received, kept_headers, "invalid_webhook", str(exc)
        )
        return JSONResponse(answer, status)
    if not events.knows_checkout(payment_id):
        # Not ours: the same answer as for ours, so the endpoint tells nobody which ids exist.
        if state.rejected_budget.take(source):
            events.store_rejected(
                RejectedRequest(
                    head=received.body[:REJECTED_HEAD_BYTES],
                    size=received.size,
                    sha256=hashlib.sha256(received.body).hexdigest(),
                    headers=kept_headers,
                    reason=f"{payment_id} is not a checkout of ours: not fetched",
                )
            )
        return JSONResponse({"received": True})
    try:
        notice = await provider.read_webhook(received.body, request.headers)
    except ProviderError as exc:
        log.warning("mollie_fetch_failed", payment=payment_id, error=str(exc))
        events.store_unfetched(received.body, kept_headers, f"fetching {payment_id}: {exc}")
        return JSONResponse(
            {"error": {"code": "provider_unavailable", "message": "Mollie could not be asked; call again"}}, 503
        )
    try:
        outcome = await events.accept_notice(replace(notice, request_headers=kept_headers))
    except Exception:
        log.exception("webhook_processing_failed", event_id=notice.event_id, type=notice.type)
        events.store_failed(replace(notice, request_headers=kept_headers), traceback.format_exc(limit=20))
        return JSONResponse(
            {"error": {"code": "processing_failed", "message": "the payment could not be applied; call again"}}, 500
        )
    log.debug("mollie_webhook", payment=payment_id, outcome=outcome)
    return JSONResponse({"received": True})  # the same answer as for an id that is not ours
