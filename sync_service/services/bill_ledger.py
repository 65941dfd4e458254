"""A split bill's books, kept inside the transactions that change its shares. No provider or POS I/O.

The bill's arithmetic is the domain's (tablepay_domain/bill.py); this module reads a bill and its
shares from storage into it, judges a share that became paid (does the bill still have room for it?),
settles the bill when nothing is left, and names the feed rows of share changes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

import structlog

from tablepay_domain.bill import Bill, BillLine, Share, SplitMode
from tablepay_domain.money import Money
from tablepay_domain.order import Order
from tablepay_domain.payment_state import PaymentStatus

from ..models import BillRecord, PaymentRecord
from ..storage.repository import Repository
from .transitions import Change

log = structlog.get_logger(__name__)

OPEN, SETTLED, STOPPED = "open", "settled", "stopped"
CONFIRMING = frozenset({PaymentStatus.PENDING, PaymentStatus.AUTHORIZED})
CONFIRMING_HOLD_SECONDS = 14 * 86400  # a bank transfer's confirmation can take days; the money is on its way


def share_json(share: Share, version: int) -> str:
    """What a share pays, as stored on its payment row."""
    return json.dumps(
        {"mode": share.mode.value, "equal_shares": share.equal_shares, "units": share.units, "version": version},
        sort_keys=True,
        separators=(",", ":"),
    )


def share_terms(payment: PaymentRecord) -> Share:
    """The domain share a stored share pays (paid or held as it is now)."""
    terms = json.loads(payment.share or "{}")
    return Share(
        amount=payment.dish_subtotal,
        mode=SplitMode(terms.get("mode", SplitMode.AMOUNT.value)),
        paid=payment.status.is_paid,
        equal_shares=int(terms.get("equal_shares", 0)),
        units=tuple((str(sku), int(quantity)) for sku, quantity in terms.get("units", ())),
    )


def holding(payment: PaymentRecord, now: float) -> bool:
    """Whether the share holds its part now: its checkout is open, or the guest has paid and the bank
    is confirming, and its hold has not lapsed (a share that reached the bank within its hold holds
    for CONFIRMING_HOLD_SECONDS more: BillLedger.judge; one that got there later is judged when paid)."""
    return (payment.status is PaymentStatus.OPEN or payment.status in CONFIRMING) and (payment.hold_until or 0) > now


def counts(payment: PaymentRecord, now: float) -> bool:
    """Whether the share takes part of the bill: held, or paid and not left out (overpaid)."""
    return holding(payment, now) or (payment.status.is_paid and not payment.share_excluded)


def bill_lines(bill: BillRecord) -> tuple[BillLine, ...]:
    return tuple(BillLine(**line) for line in json.loads(bill.lines))


def domain_bill(bill: BillRecord, shares: list[PaymentRecord], now: float, *, leaving_out: str = "") -> Bill:
    """The bill as the domain sees it now: its dishes and the shares that count (but `leaving_out`)."""
    taking = tuple(share_terms(p) for p in shares if p.payment_id != leaving_out and counts(p, now))
    return Bill(bill.currency, bill_lines(bill), taking, bill.split_ways)


def progress(bill: BillRecord, shares: list[PaymentRecord], now: float) -> dict[str, Any]:
    """What the kiosk shows of the bill (the `bill` of its feed events)."""
    seen = domain_bill(bill, shares, now)
    return {
        "bill_id": bill.bill_id,
        "version": bill.version,
        "status": bill.status,
        "currency": bill.currency,
        "total": seen.total,
        "paid": seen.paid,
        "held": seen.held,
        "remaining": max(seen.remaining, 0),
        "guests_paying": sum(1 for p in shares if holding(p, now)),
    }


def progress_json(bill: BillRecord, shares: list[PaymentRecord], now: float) -> str:
    return json.dumps(progress(bill, shares, now), sort_keys=True, separators=(",", ":"))


def order_lines(order: Order) -> tuple[BillLine, ...]:
    """The order's dishes as bill lines: one per dish and price (a dish at two prices is two lines)."""
    merged: dict[tuple[str, int], BillLine] = {}
    for line in order.lines:
        key = (line.sku, line.unit_amount)
        seen = merged.get(key)
        quantity = line.quantity + (seen.quantity if seen else 0)
        merged[key] = BillLine(line.sku, line.name, quantity, line.unit_amount)
    skus = [sku for sku, _ in merged]
    return tuple(
        line if skus.count(line.sku) == 1 else replace(line, sku=f"{line.sku}@{line.unit_amount}")
        for line in merged.values()
    )


def lines_json(lines: tuple[BillLine, ...]) -> str:
    return json.dumps([asdict(line) for line in lines], separators=(",", ":"))


class BillChangeRefused(Exception):
    """The order's new dishes would leave the bill below what guests have paid or are paying for."""


def rebill(repo: Repository, bill: BillRecord, order: Order) -> BillRecord:
    """Inside a transaction with the order locked: the bill with the order's dishes now. When they
    changed, a new version: open holds are released (the hold job stops their checkouts), paid shares
    stay, and the kiosk hears `bill.updated`."""
    lines = order_lines(order)
    if lines == bill_lines(bill):
        return bill
    now = time.time()
    shares = repo.bill_shares(bill.bill_id)
    # Paid shares, and those the bank is confirming: the new bill must still have their dishes.
    paid = [
        replace(share_terms(p), paid=True)
        for p in shares
        if (p.status.is_paid and not p.share_excluded) or p.status in CONFIRMING
    ]
    new = Bill(bill.currency, lines, tuple(paid), bill.split_ways)
    short = [sku for sku, free in new.units_free().items() if free < 0]
    gone = {sku for s in paid for sku, _ in s.units} - {line.sku for line in lines}
    if new.total < new.paid or short or gone:
        raise BillChangeRefused(
            f"guests have already paid {Money(new.paid, bill.currency)} of this bill, for dishes it would no "
            "longer have: the bill cannot have fewer of them. Void dishes at the restaurant's POS."
        )
    repo.update_bill(bill.bill_id, lines=lines_json(lines), version=bill.version + 1)
    released = repo.release_holds(bill.bill_id, now)
    changed = replace(bill, lines=lines_json(lines), version=bill.version + 1)
    repo.append_bill_feed(
        bill.kiosk_id,
        bill.order_id,
        "bill.updated",
        bill.currency,
        progress_json(changed, repo.bill_shares(bill.bill_id), now),
    )
    log.info("bill_changed", bill_id=bill.bill_id, version=changed.version, holds_released=released)
    return changed


def order_paid(repo: Repository, order_id: str) -> bool:
    """Paid in full by one attempt, or by the shares of its split bill (settled)."""
    if any(p.status.is_paid and p.bill_id is None for p in repo.attempts(order_id)):
        return True
    bill = repo.bill_for_order(order_id)
    return bill is not None and bill.status == SETTLED


def _left_out(payment: PaymentRecord, note: str) -> PaymentRecord:
    """A paid share the bill has no room for: kept, left out of the bill, flagged for a refund."""
    attention = f"{payment.attention}; {note}" if payment.attention else note
    return replace(payment, share_excluded=True, attention=attention)


def share_event(payment: PaymentRecord, became_paid: bool) -> str:
    """A share's feed event: `bill.share_paid` when it became paid, else `bill.share_<status>`."""
    return "bill.share_paid" if became_paid else f"bill.share_{payment.status.value}"


class BillLedger:
    """Bill bookkeeping inside a payment-changing transaction (services/payment_events.py)."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo

    def _shares(self, bill_id: str, overlay: Mapping[str, PaymentRecord]) -> list[PaymentRecord]:
        """The bill's shares as this transaction sees them (with changes of its batch not yet written)."""
        return [overlay.get(p.payment_id, p) for p in self._repo.bill_shares(bill_id)]

    def judge(self, change: Change, overlay: Mapping[str, PaymentRecord]) -> Change:
        """A share that became paid counts when the bill still has room for it; otherwise (it was paid
        after its hold lapsed and others took its part) it is left out and flagged for a refund."""
        after = change.after
        if after.bill_id is None:
            return change
        if after.status in CONFIRMING and change.before.status is PaymentStatus.OPEN:
            if (change.before.hold_until or 0) > time.time():  # paid within its hold: the bank confirms it
                return replace(change, after=replace(after, hold_until=time.time() + CONFIRMING_HOLD_SECONDS))
            return change
        if not change.became_paid:
            return change
        in_full = sorted(
            p.payment_id
            for p in (overlay.get(a.payment_id, a) for a in self._repo.attempts(after.order_id))
            if p.bill_id is None and p.status.is_paid
        )
        if in_full:  # a checkout of the whole order (from before the split) was paid: nothing is left to share
            note = f"double_payment: order {after.order_id} was already paid in full by {', '.join(in_full)}; refund it"
            log.warning("double_payment", payment_id=after.payment_id, order_id=after.order_id, other=in_full)
            return replace(change, after=_left_out(after, note))
        now = time.time()
        if change.before.status is PaymentStatus.OPEN and (change.before.hold_until or 0) > now:
            return change  # paid within its hold: its part was kept for it
        # A late success: another instance may be pricing a share of this bill right now, reading shares
        # without this one. Judged with the order locked, as shares are taken (bills.py), each sees the
        # other. Not above: a share within its hold needs no judging, and a stop or rebill that holds the
        # order waits for this transaction's lock on that share's row (the other way round: a deadlock).
        self._repo.lock_order(after.order_id)
        bill = self._repo.bill(after.bill_id)
        assert bill is not None, after.bill_id
        others = domain_bill(bill, self._shares(bill.bill_id, overlay), now, leaving_out=after.payment_id)
        share = share_terms(after)
        free = others.units_free()
        fits = share.amount <= others.remaining and all(free.get(sku, 0) >= n for sku, n in share.units)
        if fits:
            log.info("late_share_accepted", payment_id=after.payment_id, bill_id=bill.bill_id)
            return change
        log.warning("share_overpaid", payment_id=after.payment_id, bill_id=bill.bill_id, amount=share.amount)
        note = (
            f"overpaid: share {after.payment_id} was paid after its hold lapsed and other guests had paid "
            f"its part ({Money(share.amount, bill.currency)} of the bill's dishes); refund it"
        )
        return replace(change, after=_left_out(after, note))

    def feed_rows(self, moved: list[Change]) -> tuple[list[str], list[str | None]]:
        """Each moved change's feed event name and, for a share, its bill's progress after the change."""
        now = time.time()
        names: list[str] = []
        bills: list[str | None] = []
        for change in moved:
            after = change.after
            bill = self._repo.bill(after.bill_id) if after.bill_id else None
            if bill is None:
                names.append(change.feed_event)
                bills.append(None)
                continue
            names.append(share_event(after, change.became_paid) if not change.charged_back else change.feed_event)
            bills.append(progress_json(bill, self._repo.bill_shares(bill.bill_id), now))
        return names, bills

    def settle(self, moved: list[Change]) -> list[tuple[BillRecord, list[str]]]:
        """Bills that nothing is left of now: marked settled, with a `bill.settled` feed event; returns
        each with the shares (paid, counted) that pay it, in the order they were taken."""
        now = time.time()
        settled: list[tuple[BillRecord, list[str]]] = []
        for bill_id in dict.fromkeys(c.after.bill_id for c in moved if c.became_paid and c.after.bill_id):
            assert bill_id is not None
            bill = self._repo.bill(bill_id)
            if bill is None or bill.status == SETTLED:
                continue
            shares = self._repo.bill_shares(bill_id)
            if not domain_bill(bill, shares, now).settled:
                continue
            self._repo.update_bill(bill_id, status=SETTLED, closed_at=now)
            bill = replace(bill, status=SETTLED, closed_at=now)
            self._repo.append_bill_feed(
                bill.kiosk_id, bill.order_id, "bill.settled", bill.currency, progress_json(bill, shares, now)
            )
            paying = [p.payment_id for p in shares if p.status.is_paid and not p.share_excluded]
            log.info("bill_settled", bill_id=bill_id, order_id=bill.order_id, shares=len(paying))
            settled.append((bill, paying))
        return settled
