"""Provider webhooks: verified, deduplicated by event id, answered so the provider retries when it should."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..providers.base import InvalidWebhook, PaymentProvider
from ..services.payment_events import PaymentEvents

router = APIRouter(tags=["webhooks"])
log = structlog.get_logger(__name__)
MAX_BODY_BYTES = 512 * 1024


@router.post("/webhooks/stripe", responses={400: {"description": "Bad signature or malformed event; nothing changed"}})
async def stripe_webhook(request: Request) -> JSONResponse:
    """200 when applied, ignored or already seen; 400 when forged or malformed; 500 so Stripe retries."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"error": {"code": "too_large", "message": "webhook body too large"}}, 400)
    provider: PaymentProvider = request.app.state.provider
    try:
        notice = await provider.read_webhook(body, request.headers)
    except InvalidWebhook as exc:
        log.warning("webhook_rejected", reason=str(exc))
        return JSONResponse({"error": {"code": "invalid_webhook", "message": str(exc)}}, 400)
    events: PaymentEvents = request.app.state.payment_events
    try:
        outcome = await events.accept_notice(notice)
    except Exception:  # noqa: BLE001 - rolled back; a 5xx makes Stripe deliver it again
        log.exception("webhook_processing_failed", event_id=notice.event_id, type=notice.type)
        return JSONResponse({"error": {"code": "processing_failed",
                                       "message": "the event could not be processed; it will be retried"}}, 500)
    return JSONResponse({"received": True, "outcome": outcome})
