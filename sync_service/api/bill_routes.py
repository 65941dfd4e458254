"""The split bill's routes: the kiosk opens and stops it; guests, with its token only, see and pay it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from tablepay_domain.bill import SplitMode

from ..services.bills import BillService, ShareAsk, ShareRefused
from .auth import kiosk_from_request
from .bill_page import render_bill_page
from .bill_schemas import BillOpenIn, BillOut, BillState, ShareConflict, ShareIn, ShareOut
from .schemas import ErrorResponse
from .source_budget import SourceBudget

kiosk_router = APIRouter(prefix="/v1", tags=["split bill"], responses={401: {"model": ErrorResponse}})
guest_router = APIRouter(prefix="/bill", tags=["split bill: guests"])
Kiosk = Annotated[str, Depends(kiosk_from_request)]

# Per token (one table's guests together): the page polls every few seconds, and a few guests
# take shares; more than this is a script, answered 429 (counted per instance).
STATE_BURST, STATE_PER_SECOND = 60, 4.0
SHARE_BURST, SHARE_PER_SECOND = 20, 0.5


def state_budget() -> SourceBudget:
    return SourceBudget(burst=STATE_BURST, per_second=STATE_PER_SECOND)


def share_budget() -> SourceBudget:
    return SourceBudget(burst=SHARE_BURST, per_second=SHARE_PER_SECOND)


def _bills(request: Request) -> BillService:
    bills: BillService = request.app.state.bills
    return bills


def _within(request: Request, budget_name: str, token: str) -> None:
    budget: SourceBudget = getattr(request.app.state, budget_name)
    if not budget.take(f"bill:{token[:100]}"):
        raise HTTPException(429, "Too many tries on this bill: wait a moment.", headers={"Retry-After": "5"})


def _units(ask: ShareIn) -> dict[str, int]:
    """Dish units asked for, a dish named twice counted once with both quantities."""
    units: dict[str, int] = {}
    for item in ask.items:
        units[item.sku] = units.get(item.sku, 0) + item.quantity
    return units


@kiosk_router.post(
    "/orders/{order_id}/bill",
    response_model=BillOut,
    status_code=201,
    responses={
        200: {"model": BillOut},
        403: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        502: {"model": ErrorResponse},
    },
)
async def open_bill(order_id: str, order: BillOpenIn, request: Request, kiosk_id: Kiosk) -> JSONResponse:
    """Open the order's bill for splitting (201), or return it (200); other dishes make a new version."""
    if order.order_id != order_id:
        raise HTTPException(422, f"the body is order {order.order_id}, the path order {order_id}")
    if any(not 1 <= p <= 100 for p in order.tip_presets):
        raise HTTPException(422, "tip presets are percentages from 1 to 100")
    status, body = await _bills(request).open(
        order.to_domain(), kiosk_id=kiosk_id, tip_presets=tuple(order.tip_presets)
    )
    return JSONResponse(body, status_code=status)


@kiosk_router.delete("/orders/{order_id}/bill", response_model=BillOut, responses={404: {"model": ErrorResponse}})
async def stop_bill(order_id: str, request: Request, kiosk_id: Kiosk) -> dict[str, object]:
    """Stop the split: open holds are released, paid shares stay; the rest can then be paid in full."""
    return await _bills(request).stop(order_id, kiosk_id=kiosk_id)


@guest_router.get("/{token}", include_in_schema=False)
async def bill_page(token: str, request: Request) -> HTMLResponse:
    """The guest's bill page; 404 (the same page, saying the link no longer works) for a token no bill has."""
    _within(request, "bill_state_budget", token)
    page = render_bill_page(token, request.headers.get("accept-language"))
    if not _bills(request).works(token):
        page.status_code = 404
    return page


@guest_router.get(
    "/{token}/state", response_model=BillState, responses={404: {"model": ErrorResponse}, 429: {"model": ErrorResponse}}
)
async def bill_state(token: str, request: Request, share: Annotated[str, Query(max_length=100)] = "") -> JSONResponse:
    """The bill now: dishes with units paid, held and free, the sums, and `share`'s receipt."""
    _within(request, "bill_state_budget", token)
    return JSONResponse(_bills(request).state(token, share), headers={"Cache-Control": "no-store"})


@guest_router.post(
    "/{token}/shares",
    status_code=201,
    response_model=ShareOut,
    responses={
        404: {"model": ErrorResponse},
        409: {"model": ShareConflict},
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
        502: {"model": ErrorResponse},
    },
)
async def take_share(token: str, ask: ShareIn, request: Request) -> JSONResponse:
    """Hold a part of the bill and open its hosted checkout; 409 with the bill now when it changed."""
    _within(request, "bill_share_budget", token)
    try:
        body = await _bills(request).take_share(
            token,
            ShareAsk(
                mode=SplitMode(ask.mode),
                version=ask.version,
                shares=ask.shares,
                pay_shares=ask.pay_shares,
                items=tuple(_units(ask).items()),
                amount=ask.amount,
                tip_amount=ask.tip_amount,
                donation_amount=ask.donation_amount,
            ),
        )
    except ShareRefused as exc:
        error = {"error": {"code": exc.code, "message": exc.message}}
        return JSONResponse({**error, **({"state": exc.state} if exc.state else {})}, status_code=exc.status_code)
    return JSONResponse(body, status_code=201, headers={"Cache-Control": "no-store"})
