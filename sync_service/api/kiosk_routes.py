"""The API the kiosks call, each request with the kiosk's bearer token."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from ..services.checkout import CheckoutService
from ..services.feed import Feed, for_kiosk
from ..services.refunds import RefundService
from ..storage.feed_rows import PARTNER_PREFIX
from ..storage.pos_repository import PosRepository
from .auth import kiosk_from_request, manager_from_request, token_kiosk
from .schemas import (
    DigitsInteger,
    ErrorResponse,
    FeedPage,
    KioskIdentity,
    LookupIn,
    LookupOut,
    OrderHistory,
    OrderSnapshot,
    Payment,
    RefundIn,
    RefundOut,
)

router = APIRouter(prefix="/v1", tags=["kiosk"], responses={401: {"model": ErrorResponse}})
Kiosk = Annotated[str, Depends(kiosk_from_request)]
Manager = Annotated[str, Depends(manager_from_request)]


def _visible(owner: str, kiosk_id: str) -> bool:
    """A kiosk sees its own payments and every partner's (as in its feed), never another kiosk's."""
    return owner == kiosk_id or owner.startswith(PARTNER_PREFIX)


def _checkouts(request: Request) -> CheckoutService:
    checkouts: CheckoutService = request.app.state.checkouts
    return checkouts


@router.get("/kiosk", response_model=KioskIdentity)
async def who_am_i(request: Request, kiosk_id: Kiosk) -> dict[str, object]:
    """The kiosk this token belongs to (`tablepay kiosk pair` checks a token and learns its id with it),
    and what the kiosk may offer here: a kiosk asks again each time it connects. `kitchen`: when orders
    that do not choose go to the kitchen here (TABLEPAY_KITCHEN)."""
    donations = _checkouts(request).donations_enabled
    partner = request.app.state.settings.donation_partner if donations else ""
    kitchen = _checkouts(request).kitchen.value
    return {"kiosk_id": kiosk_id, "donations": donations, "donation_partner": partner, "kitchen": kitchen}


@router.post(
    "/checkouts",
    status_code=201,
    response_model=Payment,
    responses={
        403: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        502: {"model": ErrorResponse},
    },
)
async def create_checkout(
    order: OrderSnapshot,
    request: Request,
    kiosk_id: Kiosk,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Open a hosted checkout (attempt n+1) for an order; the total is computed here."""
    status, body = await _checkouts(request).create(
        order.to_domain(), kiosk_id=kiosk_id, idempotency_key=idempotency_key
    )
    return JSONResponse(body, status_code=status)


@router.get("/payments/{payment_id}", response_model=Payment, responses={404: {"model": ErrorResponse}})
async def get_payment(payment_id: str, request: Request, kiosk_id: Kiosk) -> dict[str, object]:
    return _checkouts(request).get(payment_id, kiosk_id).public()


@router.post("/payments/{payment_id}/refresh", response_model=Payment, responses={404: {"model": ErrorResponse}})
async def refresh_payment(payment_id: str, request: Request, kiosk_id: Kiosk) -> dict[str, object]:
    """Retrieve the checkout from the provider server-side and apply what it says."""
    return (await _checkouts(request).refresh(payment_id, kiosk_id)).public()


@router.post(
    "/payments/{payment_id}/cancel",
    response_model=Payment,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def cancel_payment(payment_id: str, request: Request, kiosk_id: Kiosk) -> dict[str, object]:
    """Expire the hosted checkout so it can no longer be paid; the attempt becomes cancelled."""
    return (await _checkouts(request).cancel(payment_id, kiosk_id)).public()


@router.post(
    "/payments/{payment_id}/refunds",
    status_code=202,
    response_model=RefundOut,
    responses={
        403: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        502: {"model": ErrorResponse},
    },
)
async def refund_payment(
    payment_id: str,
    refund: RefundIn,
    request: Request,
    kiosk_id: Manager,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Refund part or all of what is left (manager token). The payment's state follows the provider's events."""
    refunds: RefundService = request.app.state.refunds
    status, body = await refunds.refund(
        payment_id, kiosk_id=kiosk_id, amount=refund.amount, reason=refund.reason, idempotency_key=idempotency_key
    )
    return JSONResponse(body, status_code=status)


@router.get("/orders/{order_id}/history", response_model=OrderHistory, responses={404: {"model": ErrorResponse}})
async def order_history(order_id: str, request: Request, kiosk_id: Kiosk) -> dict[str, object]:
    """Every attempt of an order with the provider events (and server-side retrieves) about it."""
    repo = request.app.state.repo
    attempts = [a for a in repo.attempts(order_id) if _visible(a.kiosk_id, kiosk_id)]
    if not attempts:
        raise HTTPException(404, f"no payment attempts for order {order_id}")
    events = repo.events_for_payments([a.payment_id for a in attempts])
    stored = repo.stored_order(order_id)
    return {
        "order_id": order_id,
        "order_status": stored.order_status,
        "kitchen": stored.kitchen,
        "attempts": [
            {
                "payment_id": a.payment_id,
                "attempt": a.attempt,
                "status": a.status.value,
                "attention": a.attention,
                "events": [e for e in events if e["payment_id"] == a.payment_id],
            }
            for a in attempts
        ],
    }


@router.post("/payments/lookup", response_model=LookupOut)
async def lookup_payments(lookup: LookupIn, request: Request, kiosk_id: Kiosk) -> dict[str, object]:
    """The service's view of this kiosk's payments (and their orders' POS status), for reconciliation."""
    repo = request.app.state.repo
    found = [p for p in repo.payments_by_id(lookup.payment_ids).values() if _visible(p.kiosk_id, kiosk_id)]
    order_ids = sorted({p.order_id for p in found})
    pos, statuses = PosRepository(repo).statuses(order_ids), repo.order_statuses(order_ids)
    return {
        "payments": [
            {
                "payment_id": p.payment_id,
                "order_id": p.order_id,
                "status": p.status.value,
                "amount_total": p.amount_total,
                "amount_refunded": p.amount_refunded,
                "pos_status": pos.get(p.order_id),
                "updated_at": p.updated_at,
                "attention": p.attention,
                "amount_charged_back": p.amount_charged_back,
                "order_status": statuses.get(p.order_id),
            }
            for p in found
        ]
    }


# How often a long poll asks whether its token was revoked meanwhile (`tablepay sync
# revoke-kiosk` runs in another process, so nothing can wake the poll; one indexed read a second).
REVOCATION_CHECK_SECONDS = 1.0


async def _while_allowed(
    request: Request,
    kiosk_id: str,
    poll: Coroutine[Any, Any, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """A long poll ends when its kiosk hangs up, instead of holding on (and holding a shutdown) for `wait`,
    and with 401 when its token is revoked while it waits."""

    async def hung_up() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    async def revoked() -> None:
        # The dependency has just checked the token: the first look is due a second later.
        while True:
            await asyncio.sleep(REVOCATION_CHECK_SECONDS)
            if token_kiosk(request) != kiosk_id:
                return

    polling, watching, checking = (
        asyncio.create_task(poll),
        asyncio.create_task(hung_up()),
        asyncio.create_task(revoked()),
    )
    finished: set[asyncio.Task[Any]] = set()
    try:
        finished, _ = await asyncio.wait({polling, watching, checking}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watching, checking, polling):
            if not task.done():
                task.cancel()
        await asyncio.gather(polling, watching, checking, return_exceptions=True)
    if checking in finished and polling not in finished:
        kiosk_from_request(request)  # the token is gone: the usual 401
    return [] if polling.cancelled() else polling.result()


@router.get("/events", response_model=FeedPage)
async def events(
    request: Request,
    kiosk_id: Kiosk,
    after: Annotated[DigitsInteger, Query(ge=0, le=2**63 - 1, description="Last seq the kiosk has applied")] = 0,
    wait: Annotated[float, Query(ge=0, le=60, description="Seconds to hold the request open")] = 0,
    limit: Annotated[DigitsInteger, Query(ge=1, le=500)] = 100,
    events: Annotated[
        Literal["payments", "all"],
        Query(description="`all`: every event; `payments` (a kiosk of an earlier release): payment.* and pos.*"),
    ] = "payments",
) -> dict[str, object]:
    """This kiosk's events after `after`: at once if any, else as soon as one arrives (long poll)."""
    feed: Feed = request.app.state.feed
    rows = await _while_allowed(request, kiosk_id, feed.poll(after, wait, kiosk_id=kiosk_id, limit=limit))
    next_after = rows[-1]["seq"] if rows else after  # past the events left out, too
    rows = for_kiosk(rows, every=events == "all")
    for row in rows:
        row.pop("kiosk_id", None)
    return {"events": rows, "next_after": next_after}
