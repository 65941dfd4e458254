"""A business day's takings, from its payments: pure, so the totals are testable without a database.

A business day starts at a set local time (default 04:00), so a late shift counts to the day it
started. Revenue is the dishes only: tips belong to the waiters and donations to a partner charity,
so neither is ever inside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from .payment_state import LIVE, PAID_FAMILY, UNPAID_FINAL, PaymentStatus


def parse_day_start(value: str) -> time:
    """'04:00' -> time(4, 0); ValueError for anything else than HH:MM."""
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"a business day start must be HH:MM, not {value!r}")
    return time(int(hours), int(minutes))


def business_day_bounds(day: date, starts_at: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the business day `day` as aware datetimes (end = the next day's start).

    Each bound is placed in local time on its own date, so a DST change inside the day
    gives a 23- or 25-hour business day, as the wall clock says."""
    start = parse_day_start(starts_at)
    return (datetime.combine(day, start, tzinfo=tz), datetime.combine(day + timedelta(days=1), start, tzinfo=tz))


def business_day_of(moment: datetime, starts_at: str, tz: tzinfo) -> date:
    """The business day a moment counts to: 02:30 on the 6th with a 04:00 start is the 5th."""
    local = moment.astimezone(tz)
    day = local.date()
    return day - timedelta(days=1) if local.time() < parse_day_start(starts_at) else day


@dataclass(frozen=True)
class DayPayment:
    """One attempt as the totals need it (amounts in minor units of `currency`)."""

    payment_id: str
    order_id: str
    status: PaymentStatus
    waiter: str
    currency: str
    dish_subtotal: int
    tip_amount: int
    donation_amount: int
    amount_total: int
    amount_refunded: int
    donation_partner: str
    paid_at: datetime | None
    order_paid: bool = True  # False: the order still waits for a payment
    amount_charged_back: int = 0  # taken back by the guest's bank after the payment


@dataclass
class DayTotals:
    currency: str
    paid_orders: int = 0
    gross: int = 0  # everything the guests paid: dishes + tips + donations
    revenue: int = 0  # dishes only
    tips: int = 0
    donations: int = 0
    refunds: int = 0
    chargebacks: int = 0  # taken back by guests' banks: not a refund the restaurant chose, shown apart
    tips_by_waiter: dict[str, int] = field(default_factory=dict)
    donations_by_partner: dict[str, int] = field(default_factory=dict)
    takings_by_hour: dict[int, int] = field(default_factory=dict)  # local hour -> gross
    attention: list[DayPayment] = field(default_factory=list)  # open or failed, order not paid

    @property
    def net(self) -> int:
        return self.gross - self.refunds - self.chargebacks


def day_totals(payments: Iterable[DayPayment], currency: str, tz: tzinfo) -> DayTotals:
    """The totals of the payments of one business day (the caller picks them by its bounds).

    Paid family (paid, partially refunded, refunded) counts as taken; refunds are the refunded
    sums of those payments, and chargebacks what guests' banks took back of them. Both come off the
    net, not off gross, revenue, tips or donations: those stay what the guests paid for, and a
    chargeback counts to the day of its payment (as a refund does). Live or failed attempts count as
    needing attention only while their order is not paid (a declined card followed by a paid retry
    is settled)."""
    totals = DayTotals(currency)
    orders: set[str] = set()
    for p in payments:
        if p.currency != currency:
            raise ValueError(f"cannot total {p.currency} with {currency}")
        if p.status in PAID_FAMILY:
            orders.add(p.order_id)
            totals.gross += p.amount_total
            totals.revenue += p.dish_subtotal
            totals.tips += p.tip_amount
            totals.donations += p.donation_amount
            totals.refunds += p.amount_refunded
            totals.chargebacks += p.amount_charged_back
            waiter = p.waiter or "(no waiter)"
            totals.tips_by_waiter[waiter] = totals.tips_by_waiter.get(waiter, 0) + p.tip_amount
            if p.donation_amount:
                partner = p.donation_partner or "(unknown partner)"
                totals.donations_by_partner[partner] = totals.donations_by_partner.get(partner, 0) + p.donation_amount
            if p.paid_at is not None:
                hour = p.paid_at.astimezone(tz).hour
                totals.takings_by_hour[hour] = totals.takings_by_hour.get(hour, 0) + p.amount_total
        elif (p.status in LIVE or p.status in UNPAID_FINAL - {PaymentStatus.CANCELLED}) and not p.order_paid:
            totals.attention.append(p)
    totals.paid_orders = len(orders)
    return totals
