"""Request and response bodies, which also make the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tablepay_domain.order import Line, Order


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(description="At least 1")
    unit_amount: int = Field(description="Price of one, in minor units (cents)")


class OrderSnapshot(BaseModel):
    """The order as the kiosk sees it; the service computes the total itself."""

    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=100)
    kiosk_id: str = Field(min_length=1, max_length=100)
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR")
    table: str = Field(min_length=1, max_length=50)
    waiter: str = Field(default="", max_length=100)
    lines: list[LineIn]
    tip_amount: int = Field(default=0, description="Minor units")
    donation_amount: int = Field(default=0, description="Minor units")
    note: str = Field(default="", max_length=500)

    def to_domain(self) -> Order:
        return Order(
            order_id=self.order_id, kiosk_id=self.kiosk_id, currency=self.currency, table=self.table,
            waiter=self.waiter, tip_amount=self.tip_amount, donation_amount=self.donation_amount,
            note=self.note,
            lines=tuple(Line(sku=line.sku, name=line.name, quantity=line.quantity, unit_amount=line.unit_amount)
                        for line in self.lines),
        )


class Payment(BaseModel):
    payment_id: str
    order_id: str
    attempt: int
    status: str = Field(description="open, pending, authorized, paid, failed, cancelled, expired, "
                                    "partially_refunded or refunded")
    currency: str
    checkout_url: str | None
    expires_at: int | None = Field(description="Unix time the hosted checkout stops accepting payment")
    amount_total: int
    dish_subtotal: int
    tip_amount: int
    donation_amount: int
    amount_refunded: int
    paid_at: str | None
    failure_reason: str | None
    created_at: str
    updated_at: str
    attention: str | None = Field(default=None, description="Set when a person must act, e.g. "
                                  "'double_payment: ...' when another attempt already paid the order")


class FeedEvent(BaseModel):
    seq: int
    event_id: str
    event: str
    order_id: str
    payment_id: str
    attempt: int
    status: str
    currency: str
    amount_total: int
    tip_amount: int
    donation_amount: int
    amount_refunded: int
    paid_at: str | None
    created_at: str
    pos_status: str | None = Field(default=None, description="For `pos.*` events: queued, in_pos, paid or failed")
    provider_reference: str | None = Field(default=None, description="Payment events: the provider's payment "
                                           "intent id, or its checkout session id before there is one")


class FeedPage(BaseModel):
    events: list[FeedEvent]
    next_after: int = Field(description="Pass this as `after` in the next poll")


class KioskIdentity(BaseModel):
    kiosk_id: str


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class SentToPos(BaseModel):
    order_id: str
    pos_status: str = Field(description="queued, in_pos, paid or failed")
    package: int | None = Field(description="The package queued now; null when the POS already has every dish")


class PosPackage(BaseModel):
    package: int
    line_guid: str
    lines: list[dict[str, object]]
    created_at: str
    delivered_at: str | None


class PosTrailStep(BaseModel):
    at: str
    step: str
    detail: str


class PosOrderState(BaseModel):
    order_id: str
    pos_guid: str
    status: str
    visit_id: str | None
    order_ident: str | None
    check_num: str | None
    last_error: str | None
    updated_at: str
    packages: list[PosPackage]
    trail: list[PosTrailStep]


class MenuEntry(BaseModel):
    sku: str = Field(description="The dish's code in the POS")
    name: str
    unit_amount: int


class MenuCategory(BaseModel):
    name: str
    items: list[MenuEntry]


class PosMenu(BaseModel):
    currency: str
    source: str
    categories: list[MenuCategory]


class DeadLetter(BaseModel):
    id: int
    topic: str
    dedupe_key: str
    payment_id: str | None
    ordering_key: str | None
    payload: dict[str, object]
    state: str
    attempts: int
    last_error: str | None
    created_at: str


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(description="Minor units; at most what is left to refund")
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] | None = None


class RefundOut(BaseModel):
    refund_id: str
    payment_id: str
    amount: int
    currency: str
    status: str = Field(description="The provider's refund status (pending, succeeded, ...); the payment's own "
                                    "state follows from the provider's events")
    left_to_refund: int


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_ids: list[str] = Field(max_length=500)


class PaymentState(BaseModel):
    payment_id: str
    order_id: str
    status: str
    amount_total: int
    amount_refunded: int
    pos_status: str | None = Field(description="The order's POS status; null when it never went to a POS")
    updated_at: str
    attention: str | None = Field(default=None, description="Set when a person must act (double_payment: ...)")


class LookupOut(BaseModel):
    payments: list[PaymentState]


class ProviderEvent(BaseModel):
    event_id: str = Field(description="The provider's event id, or `refresh:...`/`reconcile...` for a server-side retrieve")
    type: str
    outcome: str = Field(description="applied (it moved the payment), unchanged, ...")
    received_at: str


class AttemptHistory(BaseModel):
    payment_id: str
    attempt: int
    status: str
    events: list[ProviderEvent]


class OrderHistory(BaseModel):
    order_id: str
    attempts: list[AttemptHistory]
