"""POS sync for kiosks: send an order to the kitchen, see its POS trail, read the POS menu, handle dead letters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse

from tablepay_domain.money import UnknownCurrency, normalize_currency

from ..pos.rkeeper_xml import PosError
from ..services.checkout import CheckoutService, PosDisabled
from ..services.outbox import OutboxWorker
from ..services.pos_menu import menu_from_pos
from ..storage.repository import Repository
from .auth import kiosk_from_request, manager_from_request
from .schemas import DeadLetter, DigitsInteger, ErrorResponse, OrderSnapshot, PosMenu, PosOrderState, SentToPos

MAX_ROW_ID = 2**63 - 1  # SQLite's INTEGER

router = APIRouter(prefix="/v1", tags=["pos"], responses={401: {"model": ErrorResponse}})
Kiosk = Annotated[str, Depends(kiosk_from_request)]
Manager = Annotated[str, Depends(manager_from_request)]


def _pos_or_503(request: Request) -> Any:
    pos = request.app.state.pos
    if pos is None:
        raise PosDisabled("this service has no restaurant POS configured (RKEEPER_URL is empty)")
    return pos


@router.post(
    "/orders",
    status_code=202,
    response_model=SentToPos,
    responses={
        403: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def send_order(order: OrderSnapshot, request: Request, kiosk_id: Kiosk) -> dict[str, Any]:
    """Send to the kitchen: queue for the POS the dishes it has not been sent yet (a new package)."""
    checkouts: CheckoutService = request.app.state.checkouts
    return await checkouts.send_to_pos(order.to_domain(), kiosk_id=kiosk_id)


@router.get(
    "/orders/{order_id}/pos",
    response_model=PosOrderState,
    responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def pos_state(order_id: str, request: Request, kiosk_id: Kiosk) -> dict[str, Any]:
    """Where an order stands in the POS, with every package and step taken."""
    found: dict[str, Any] | None = _pos_or_503(request).orders.status(order_id)
    if found is None or request.app.state.repo.order_kiosk(order_id) != kiosk_id:
        raise HTTPException(404, f"order {order_id} was never sent to the POS")
    return found


@router.get("/menu", response_model=PosMenu, responses={502: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
async def pos_menu(
    request: Request, kiosk_id: Kiosk, currency: Annotated[str, Query(min_length=3, max_length=3)] = "EUR"
) -> Any:
    """The menu as the POS sells it now, in the shape of resources/menu.json."""
    pos = _pos_or_503(request)
    try:
        code = normalize_currency(currency)
    except UnknownCurrency as exc:
        return JSONResponse({"error": {"code": "invalid_request", "message": str(exc)}}, status_code=422)
    try:
        return await menu_from_pos(pos.client, pos.config, code)
    except PosError as exc:
        return JSONResponse(
            {"error": {"code": "pos_unavailable", "message": f"could not read the POS menu: {exc}"}}, status_code=502
        )


# Dead letters are the restaurant's, not one kiosk's (a donation transfer, a POS step of any
# table): a manager token sees and retries them all, other kiosk tokens get 403.
@router.get("/outbox/dead-letters", response_model=list[DeadLetter], responses={403: {"model": ErrorResponse}})
async def dead_letters(request: Request, kiosk_id: Manager) -> list[dict[str, Any]]:
    """Deliveries parked after failing (POS steps, donation transfers) of this restaurant's orders (manager token)."""
    repo: Repository = request.app.state.repo
    return repo.outbox_rows(state="dead", of_known_orders=True)


@router.post(
    "/outbox/{row_id}/retry",
    response_model=DeadLetter,
    responses={403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
async def retry_dead_letter(
    row_id: Annotated[DigitsInteger, FastPath(ge=1, le=MAX_ROW_ID)], request: Request, kiosk_id: Manager
) -> dict[str, Any]:
    """Put a dead letter back in line; the worker tries it again at once."""
    outbox: OutboxWorker = request.app.state.outbox
    row = outbox.retry(row_id)
    if row is None:
        raise HTTPException(404, f"no dead letter {row_id}")
    return row
