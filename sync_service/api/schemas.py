"""Request and response bodies, which also make the OpenAPI document."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from tablepay_domain.order import KitchenMode, Line, Order

# Strict input. A JSON "950", 950.0, 1e3 or true is a client's bug, not an amount: refuse it
# rather than guess (pydantic's lax mode would turn all four into integers).
StrictInteger = Annotated[int, Field(strict=True)]

# Characters no waiter types and no printer, POS or XML document takes: C0 controls, DEL, C1
# controls, lone surrogates and Unicode non-characters (U+FDD0-U+FDEF, U+xxFFFE/U+xxFFFF of
# every plane). One NUL in a waiter's name once made the POS XML invalid and parked the
# order's POS steps for good, so they are refused at the door, in every text field.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17))
    + "]"
)


def _kind(char: str) -> str:
    point = ord(char)
    if 0xD800 <= point <= 0xDFFF:
        return "a lone surrogate"
    if point >= 0xFDD0:
        return "a Unicode non-character"
    return {0x00: "NUL", 0x09: "a tab", 0x0A: "a line break", 0x0D: "a carriage return"}.get(
        point, "a control character"
    )


def _printable(allowed: str = "") -> AfterValidator:
    def check(text: str) -> str:
        for found in _UNPRINTABLE.finditer(text):
            if found.group() not in allowed:
                char = found.group()
                # The code point, never the character itself: it may not even encode as UTF-8.
                raise PydanticCustomError(
                    "unprintable_text",
                    "must not contain {kind} (U+{code}, at position {position}): use printable text only",
                    {"kind": _kind(char), "code": f"{ord(char):04X}", "position": found.start() + 1},
                )
        return text

    return AfterValidator(check)


# A single-line field (names, ids, labels): no control character at all, tab and line break included.
PrintableText = Annotated[str, _printable()]
# A free-text note for the kitchen may span lines, so line breaks and tabs are allowed there
# (it stays in the order's snapshot; XML 1.0 would take both too). Everything else is refused.
NoteText = Annotated[str, _printable(allowed="\n\t")]


def _decimal_digits(value: Any) -> Any:
    """Query and path integers: ASCII digits only, where pydantic would also take '1.0', '+5', ' 5', '1_000'."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("decimal_digits", "must be a whole number written with the digits 0-9")
    return value


# For Query(...) and Path(...) integers; their values always arrive as text.
DigitsInteger = Annotated[int, BeforeValidator(_decimal_digits)]


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: PrintableText = Field(min_length=1, max_length=64)
    name: PrintableText = Field(min_length=1, max_length=200)
    quantity: StrictInteger = Field(description="At least 1")
    unit_amount: StrictInteger = Field(description="Price of one, in minor units (cents)")


class OrderSnapshot(BaseModel):
    """The order as the kiosk sees it; the service computes the total itself."""

    model_config = ConfigDict(extra="forbid")
    order_id: PrintableText = Field(min_length=1, max_length=100)
    kiosk_id: PrintableText = Field(min_length=1, max_length=100)
    currency: PrintableText = Field(min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR")
    table: PrintableText = Field(min_length=1, max_length=50)
    waiter: PrintableText = Field(default="", max_length=100)
    lines: list[LineIn]
    tip_amount: StrictInteger = Field(default=0, description="Minor units")
    donation_amount: StrictInteger = Field(default=0, description="Minor units")
    note: NoteText = Field(default="", max_length=500, description="May span lines")
    kitchen: Literal["on_send", "after_payment"] | None = Field(
        default=None,
        description="When the kitchen gets the order: on_send (when sent, or a checkout opens) or after_payment "
        "(only once it is paid). Unset: the service's TABLEPAY_KITCHEN. Fixed when the service first stores it.",
    )

    def to_domain(self) -> Order:
        return Order(
            order_id=self.order_id,
            kiosk_id=self.kiosk_id,
            currency=self.currency,
            table=self.table,
            waiter=self.waiter,
            tip_amount=self.tip_amount,
            donation_amount=self.donation_amount,
            note=self.note,
            kitchen=KitchenMode(self.kitchen) if self.kitchen else None,
            lines=tuple(
                Line(sku=line.sku, name=line.name, quantity=line.quantity, unit_amount=line.unit_amount)
                for line in self.lines
            ),
        )


class Payment(BaseModel):
    payment_id: str
    order_id: str
    attempt: int
    status: str = Field(
        description="open, pending, authorized, paid, failed, cancelled, expired, partially_refunded or refunded"
    )
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
    attention: str | None = Field(
        default=None,
        description="Set when a person must act, e.g. "
        "'double_payment: ...' when another attempt already paid the order",
    )
    amount_charged_back: int = Field(
        default=0, description="Taken back by the guest's bank after the payment (a chargeback), minor units"
    )


class BillSums(BaseModel):
    version: int
    status: Literal["open", "settled", "stopped"]
    currency: str
    total: int = Field(description="The dishes, minor units")
    paid: int = Field(description="Paid by shares that count (tips and donations excluded)")
    held: int = Field(description="Held by shares being paid right now")
    remaining: int = Field(description="Neither paid nor held")
    guests_paying: int


class BillProgress(BillSums):
    """A bill's progress, as the kiosk's feed events carry it."""

    bill_id: str


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
    order_status: str | None = Field(
        default=None,
        description="For `order.status` events: awaiting_payment, paid, in_kitchen, closed, expired or cancelled",
    )
    provider_reference: str | None = Field(
        default=None,
        description="Payment events: the provider's payment intent id, or its checkout session id before there is one",
    )
    bill: BillProgress | None = Field(default=None, description="`bill.*` events: the split bill's progress")
    partner: str | None = Field(default=None, description="A partner's order (every kiosk gets it): the partner's name")
    table: str | None = Field(default=None, description="A partner's order: its table, or `pickup …`")


class FeedPage(BaseModel):
    events: list[FeedEvent]
    next_after: int = Field(description="Pass this as `after` in the next poll")


class KioskIdentity(BaseModel):
    kiosk_id: str
    donations: bool = Field(description="Whether this service takes donations: when not, a kiosk offers none")
    donation_partner: str = Field(
        description="Who the donations go to (TABLEPAY_DONATION_PARTNER); empty when the service takes none"
    )
    kitchen: Literal["on_send", "after_payment"] = Field(
        default="on_send", description="TABLEPAY_KITCHEN: when an order that does not choose goes to the kitchen"
    )


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class SentToPos(BaseModel):
    order_id: str
    pos_status: str | None = Field(
        description="queued, in_pos, paid or failed; null when the POS has not heard of the order (pay-first)"
    )
    package: int | None = Field(description="The package queued now; null when the POS already has every dish")
    kitchen: Literal["on_send", "after_payment"] = Field(
        description="When the kitchen gets this order: now (on_send) or once it is paid (after_payment)"
    )
    order_status: str | None = Field(description="The order's status (docs/sync-service.md, Order status)")
    message: str | None = Field(description="For a pay-first order: that it goes to the kitchen once it is paid")


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
    amount: StrictInteger = Field(description="Minor units; at most what is left to refund")
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] | None = None


class RefundOut(BaseModel):
    refund_id: str
    payment_id: str
    amount: int
    currency: str
    status: str = Field(
        description="The provider's refund status (pending, succeeded, ...); the payment's own "
        "state follows from the provider's events"
    )
    left_to_refund: int


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_ids: list[Annotated[PrintableText, Field(max_length=100)]] = Field(max_length=500)


class PaymentState(BaseModel):
    payment_id: str
    order_id: str
    status: str
    amount_total: int
    amount_refunded: int
    pos_status: str | None = Field(description="The order's POS status; null when it never went to a POS")
    updated_at: str
    attention: str | None = Field(default=None, description="Set when a person must act (double_payment: ...)")
    amount_charged_back: int = Field(default=0, description="Taken back by a chargeback after the payment")
    order_status: str | None = Field(default=None, description="The order's status (docs/sync-service.md)")


class LookupOut(BaseModel):
    payments: list[PaymentState]


class ProviderEvent(BaseModel):
    event_id: str = Field(
        description="The provider's event id, or `refresh:...`/`reconcile...` for a server-side retrieve"
    )
    type: str
    outcome: str = Field(description="applied (it moved the payment), unchanged, ...")
    received_at: str


class AttemptHistory(BaseModel):
    payment_id: str
    attempt: int
    status: str
    attention: str | None = Field(default=None, description="Set when a person must act (paid_after_expiry: ...)")
    events: list[ProviderEvent]


class OrderHistory(BaseModel):
    order_id: str
    order_status: str = Field(description="awaiting_payment, paid, in_kitchen, closed, expired or cancelled")
    kitchen: Literal["on_send", "after_payment"] = Field(description="When the kitchen gets the order")
    attempts: list[AttemptHistory]


class PairingCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kiosk_name: PrintableText | None = Field(
        default=None,
        max_length=64,
        description="What the kiosk calls itself (its host name); `add-kiosk --code` shows it to the operator",
    )


class PairingCodeOut(BaseModel):
    code: str = Field(
        description="To show on the kiosk: 8 characters of 23456789ACDEFGHJKMNPQRTUVWXY, grouped as KXM4-7RPQ"
    )
    poll_token: str = Field(description="The kiosk's secret for polling; only its hash is stored")
    expires_at: int = Field(description="Unix time")
    expires_in: int = Field(description="Seconds from now (for a countdown that does not trust the kiosk's clock)")


class PairingPoll(BaseModel):
    status: Literal["waiting", "paired"]
    expires_in: int | None = Field(default=None, description="waiting: seconds left")
    kiosk_id: str | None = Field(default=None, description="paired: the id the operator gave this kiosk")
    token: str | None = Field(default=None, description="paired: the kiosk's bearer token, handed out this once")
