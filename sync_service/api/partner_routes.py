"""The partner API (a partner's key: `/v1/partner/...` only) and the manager's view of partners' deliveries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..services.partner_orders import PartnerOrders
from ..services.partner_webhooks import PartnerWebhookWorker
from ..storage.partner_rows import PartnerRecord
from ..storage.repository import Repository
from .auth import manager_from_request, partner_from_request
from .schemas import DigitsInteger, ErrorResponse, LineIn, PrintableText, StrictInteger

router = APIRouter(
    prefix="/v1/partner", tags=["partner"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}}
)
manager_router = APIRouter(prefix="/v1/partners", tags=["kiosk"], responses={401: {"model": ErrorResponse}})
Partner = Annotated[PartnerRecord, Depends(partner_from_request)]
Manager = Annotated[str, Depends(manager_from_request)]
UrlText = Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$")]


class PartnerOrderIn(BaseModel):
    """A partner's order; its total is computed here, its prices checked against the menu."""

    model_config = ConfigDict(extra="forbid")
    external_order_id: PrintableText = Field(min_length=1, max_length=100)
    currency: PrintableText = Field(min_length=3, max_length=3)
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    tip_amount: StrictInteger = Field(default=0, ge=0)
    donation_amount: StrictInteger = Field(default=0, ge=0)
    table: PrintableText | None = Field(default=None, min_length=1, max_length=50)
    pickup: PrintableText | None = Field(default=None, min_length=1, max_length=50, description="A pickup name or code")
    return_url: UrlText
    cancel_url: UrlText
    kitchen: Literal["on_send", "after_payment"] | None = None
    note: PrintableText = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _table_or_pickup(self) -> PartnerOrderIn:
        if (self.table is None) == (self.pickup is None):
            raise ValueError("give either table or pickup")
        return self


class PartnerOrderOut(BaseModel):
    order_id: str
    payment_id: str
    checkout_url: str | None
    expires_at: int | None
    amount_total: int


class PartnerOrderState(BaseModel):
    external_order_id: str
    order_id: str
    payment_id: str
    payment_status: str
    order_status: str
    kitchen: str | None
    currency: str
    dish_subtotal: int
    tip_amount: int
    donation_amount: int
    amount_total: int
    amount_refunded: int
    paid_at: str | None
    payment_intent_id: str | None
    checkout_url: str | None
    expires_at: int | None


class PartnerState(BaseModel):
    name: str
    webhook_url: str
    bearer_token: bool
    rotated_at: float | None
    disabled_at: str | None
    disabled_reason: str | None
    failing_since: float | None
    created_at: str


class Delivery(BaseModel):
    id: int
    partner: str
    event_id: str
    type: str
    payment_id: str | None
    state: str
    attempts: int
    last_error: str | None
    created_at: str


class Deliveries(BaseModel):
    partners: list[PartnerState]
    deliveries: list[Delivery]


def _orders(request: Request) -> PartnerOrders:
    orders: PartnerOrders = request.app.state.partner_orders  # set by create_app
    return orders


@router.post(
    "/orders",
    status_code=201,
    response_model=PartnerOrderOut,
    responses={403: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def create_partner_order(
    order: PartnerOrderIn,
    request: Request,
    partner: Partner,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Create an order and open its hosted checkout; send the guest to `checkout_url`."""
    status, body = await _orders(request).create(partner, order.model_dump(), idempotency_key)
    return JSONResponse(body, status_code=status)


@router.get("/orders/{external_order_id}", response_model=PartnerOrderState, responses={404: {"model": ErrorResponse}})
async def partner_order_state(
    external_order_id: Annotated[str, FastPath(min_length=1, max_length=100)], request: Request, partner: Partner
) -> dict[str, Any]:
    """The order's state now (what its webhooks said, and anything since)."""
    return _orders(request).state(partner, external_order_id)


@manager_router.get("/deliveries", response_model=Deliveries, responses={403: {"model": ErrorResponse}})
async def partner_deliveries(
    request: Request, kiosk_id: Manager, failed: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    """Partners' endpoints (disabled ones say why) and their webhook deliveries, newest first (manager token)."""
    repo: Repository = request.app.state.repo
    return {
        "partners": [p.public() for p in repo.all_partners()],
        "deliveries": repo.partner_deliveries(failed=failed),
    }


@manager_router.post(
    "/deliveries/{row_id}/replay",
    response_model=Delivery,
    responses={403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
async def replay_partner_delivery(
    row_id: Annotated[DigitsInteger, FastPath(ge=1, le=2**62)], request: Request, kiosk_id: Manager
) -> dict[str, Any]:
    """Send a given-up delivery again (same webhook-id, same bytes); its endpoint is enabled again."""
    worker: PartnerWebhookWorker = request.app.state.partner_webhooks
    row = worker.replay(row_id)
    if row is None:
        raise HTTPException(404, f"no failed delivery {row_id}")
    return row
