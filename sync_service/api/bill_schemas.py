"""The split bill's request and answer bodies (docs/split-bill.md), for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .schemas import BillProgress, BillSums, ErrorBody, OrderSnapshot, PrintableText, StrictInteger

MAX_AMOUNT = 10**12  # far above any bill; keeps a hostile number from reaching the arithmetic


class BillOpenIn(OrderSnapshot):
    """The order as the kiosk sees it, without tip or donation (each guest adds their own)."""

    tip_presets: list[StrictInteger] = Field(
        default=[10, 15, 20], max_length=4, description="The kiosk's tip percentages (1-100), offered to the guests"
    )


class BillOut(BillProgress):
    order_id: str
    token: str = Field(description="The bill page's capability: anyone with it can pay a part of this bill")
    bill_url: str
    split_ways: int | None


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: PrintableText = Field(min_length=1, max_length=100)
    quantity: StrictInteger = Field(ge=1, le=999)


class ShareIn(BaseModel):
    """What a guest asks to pay; the service prices it from the bill, never from these numbers alone."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["remaining", "equal", "items", "amount"]
    version: StrictInteger = Field(ge=1, description="The bill version the guest saw")
    shares: StrictInteger | None = Field(default=None, ge=2, le=50, description="equal: N ways")
    pay_shares: StrictInteger = Field(default=1, ge=1, le=50, description="equal: how many of the N")
    items: list[ItemIn] = Field(default=[], max_length=200, description="items: whole dish units")
    amount: StrictInteger | None = Field(default=None, ge=0, le=MAX_AMOUNT, description="amount: minor units")
    tip_amount: StrictInteger = Field(default=0, ge=0, le=MAX_AMOUNT)
    donation_amount: StrictInteger = Field(default=0, ge=0, le=MAX_AMOUNT)


class ShareOut(BaseModel):
    share_id: str
    checkout_url: str
    amount: int
    tip_amount: int
    donation_amount: int
    amount_total: int
    expires_at: int = Field(description="Unix seconds when the hold on this part lapses")


class BillLineState(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_amount: int
    paid: int
    held: int
    free: int


class PaidShare(BaseModel):
    amount: int
    tip_amount: int
    paid_at: str | None


class Receipt(BaseModel):
    share_id: str
    status: str
    amount: int
    tip_amount: int
    donation_amount: int
    amount_total: int


class BillState(BillSums):
    split_ways: int | None
    equal_shares_left: int | None
    minimum: int = Field(description="The smallest part a guest may pay (unless it is all that is left)")
    lines: list[BillLineState]
    tip_presets: list[int]
    donations: bool
    donation_partner: str
    paid_shares: list[PaidShare]
    receipt: Receipt | None = None


class ShareConflict(BaseModel):
    """409: the bill changed under the guest; `state` is the bill now."""

    error: ErrorBody
    state: BillState | None = None
