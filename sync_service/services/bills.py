"""Split bills: open one for an order, let guests take shares of it, stop it, let lapsed holds go.

Every amount is computed here from the stored bill (tablepay_domain/bill.py), never taken from the
guest's page. A share is taken in one transaction with the order locked (another instance's guest
waits), stored as a payment attempt holding its part, and only then is its hosted checkout opened.
Contract: docs/split-bill.md.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import structlog

from tablepay_domain.bill import BillLine, Share, SplitMode, SplitRefused, quote
from tablepay_domain.money import Money
from tablepay_domain.order import Line, Order
from tablepay_domain.payment_state import PaymentStatus
from tablepay_domain.tips import DEFAULT_TIP_PRESETS

from ..models import BillRecord, PaymentRecord, snapshot_json, utc_now
from ..providers.base import CheckoutNotStoppable, Observation, PaymentProvider, ProviderError
from ..storage.repository import Repository
from .bill_ledger import (
    OPEN,
    SETTLED,
    STOPPED,
    BillChangeRefused,
    bill_lines,
    domain_bill,
    holding,
    lines_json,
    order_lines,
    order_paid,
    progress,
    progress_json,
    rebill,
    share_json,
    share_terms,
)
from .checkout import CheckoutError, CheckoutService, Conflict, DishesAlreadySent, NotFound, Unprocessable
from .feed import FeedNotifier
from .order_status import kitchen_of
from .payment_events import PaymentEvents

log = structlog.get_logger(__name__)

TOKEN_BYTES = 32  # 256 bits: unguessable, and no other order's bill is reachable from it
# What secrets.token_urlsafe makes: anything else (a NUL, which PostgreSQL refuses in a query) is no token.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")
TOKEN_WORKS_AFTER_CLOSE = 3600.0  # seconds a settled or stopped bill's page still answers
HOLD_JOB_BATCH = 50
# A checkout the provider keeps failing to stop is tried on every round for this long after its hold
# lapsed, then left open like one it cannot stop (its part is free either way; the sweep still reads it).
STOP_TRIES_SECONDS = 600.0


class BillGone(CheckoutError):
    """No bill has this token, or it stopped working (an hour after it was settled or stopped)."""

    status_code, code = 404, "bill_not_found"


class ShareRefused(CheckoutError):
    """A share the guest asked for cannot be taken; 409 (with the bill now) or 422."""

    def __init__(self, message: str, *, conflict: bool, state: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status_code = 409 if conflict else 422
        self.code = "bill_changed" if conflict else "invalid_share"
        self.state = state


@dataclass(frozen=True)
class ShareAsk:
    """What a guest asks for (docs/split-bill.md); amounts in minor units, all checked here."""

    mode: SplitMode
    version: int
    shares: int | None = None
    pay_shares: int = 1
    items: tuple[tuple[str, int], ...] = ()
    amount: int | None = None
    tip_amount: int = 0
    donation_amount: int = 0


class BillService:
    def __init__(
        self,
        repo: Repository,
        checkouts: CheckoutService,
        events: PaymentEvents,
        notifier: FeedNotifier,
        provider: PaymentProvider,
        *,
        public_url: str,
        hold_seconds: float,
        max_total: int,
        donation_partner: str,
    ) -> None:
        self._repo, self._checkouts, self._events = repo, checkouts, events
        self._notifier, self._provider = notifier, provider
        self._public_url, self._hold = public_url, hold_seconds
        self._max_total, self._partner = max_total, donation_partner

    # the kiosk ------------------------------------------------------------------
    def _kiosk_view(self, bill: BillRecord) -> dict[str, Any]:
        seen = progress(bill, self._repo.bill_shares(bill.bill_id), time.time())
        return {
            **seen,
            "order_id": bill.order_id,
            "token": bill.token,
            "bill_url": f"{self._public_url}/bill/{bill.token}",
            "split_ways": bill.split_ways,
        }

    async def open(
        self, order: Order, *, kiosk_id: str, tip_presets: tuple[int, ...] = DEFAULT_TIP_PRESETS
    ) -> tuple[int, dict[str, Any]]:
        """Open the order's bill for splitting (201), or return it (200) with the order's dishes now;
        `tip_presets`: the kiosk's tip percentages, offered to the guests."""
        order = self._checkouts.valid(order, kiosk_id)
        if order.tip_amount or order.donation_amount:
            raise Unprocessable("Each guest adds their own tip and donation on the bill page: open it without them.")
        self._checkouts.chargeable(order)
        async with self._checkouts.locks.hold(order.order_id):
            if self._checkouts.pos is not None:
                self._checkouts.queue_for_pos(order)  # the kitchen has every dish before anyone pays
            with self._repo.transaction():
                self._repo.lock_order(order.order_id)
                status, bill = self._open_locked(order, tip_presets)
        self._notifier.notify(kiosk_id)
        await self.stop_lapsed_holds()  # a new version released holds: stop their checkouts now
        return status, self._kiosk_view(bill)

    def _open_locked(self, order: Order, tip_presets: tuple[int, ...]) -> tuple[int, BillRecord]:
        if order_paid(self._repo, order.order_id):
            raise Conflict(f"order {order.order_id} is already paid")
        now = time.time()
        attempts = self._repo.attempts(order.order_id)
        live = [a for a in attempts if a.status.is_live and (a.bill_id is None or holding(a, now))]
        bill = self._repo.bill_for_order(order.order_id)
        if live and (bill is None or bill.status != OPEN):
            raise Conflict(
                f"order {order.order_id} has a checkout in progress (attempt {live[0].attempt}); cancel it first",
                payment_id=live[0].payment_id,
            )
        self._repo.upsert_order(
            order, snapshot_json(order), kitchen_of(self._repo, order, self._checkouts.kitchen).value
        )
        presets = json.dumps(list(tip_presets))
        if bill is None:
            return 201, self._new_bill(order, presets)
        if presets != bill.tip_presets:
            self._repo.update_bill(bill.bill_id, tip_presets=presets)
            bill = replace(bill, tip_presets=presets)
        if bill.status == STOPPED:
            self._repo.update_bill(bill.bill_id, status=OPEN, closed_at=None)
            bill = replace(bill, status=OPEN, closed_at=None)
            self._feed(bill, "bill.opened")
        try:
            return 200, rebill(self._repo, bill, order)
        except BillChangeRefused as exc:
            raise DishesAlreadySent(str(exc)) from None

    def _new_bill(self, order: Order, tip_presets: str) -> BillRecord:
        created = utc_now()
        bill = BillRecord(
            bill_id=f"bill_{uuid.uuid4().hex}",
            order_id=order.order_id,
            kiosk_id=order.kiosk_id,
            token=secrets.token_urlsafe(TOKEN_BYTES),
            currency=order.currency,
            lines=lines_json(order_lines(order)),
            version=1,
            split_ways=None,
            status=OPEN,
            created_at=created,
            updated_at=created,
            tip_presets=tip_presets,
        )
        self._repo.insert_bill(bill)
        self._feed(bill, "bill.opened")
        log.info("bill_opened", bill_id=bill.bill_id, order_id=order.order_id)
        return bill

    def _feed(self, bill: BillRecord, event: str) -> None:
        shares = self._repo.bill_shares(bill.bill_id)
        self._repo.append_bill_feed(
            bill.kiosk_id, bill.order_id, event, bill.currency, progress_json(bill, shares, time.time())
        )

    async def stop(self, order_id: str, *, kiosk_id: str) -> dict[str, Any]:
        """The waiter takes over: open holds are released (their checkouts stopped), paid shares stay."""
        async with self._checkouts.locks.hold(order_id):
            with self._repo.transaction():
                self._repo.lock_order(order_id)
                bill = self._repo.bill_for_order(order_id)
                if bill is None or bill.kiosk_id != kiosk_id:
                    raise NotFound(f"order {order_id} has no split bill")
                if bill.status == OPEN:
                    now = time.time()
                    self._repo.update_bill(bill.bill_id, status=STOPPED, closed_at=now)
                    self._repo.release_holds(bill.bill_id, now)
                    bill = replace(bill, status=STOPPED, closed_at=now)
                    self._feed(bill, "bill.stopped")
                    log.info("bill_stopped", bill_id=bill.bill_id, order_id=order_id)
        self._notifier.notify(kiosk_id)
        await self.stop_lapsed_holds()
        return self._kiosk_view(bill)

    # the guests -----------------------------------------------------------------
    def _working(self, token: str) -> BillRecord:
        bill = self._repo.bill_by_token(token) if TOKEN_SHAPE.fullmatch(token) else None
        if bill is None or (bill.closed_at is not None and time.time() > bill.closed_at + TOKEN_WORKS_AFTER_CLOSE):
            raise BillGone("This bill link no longer works. Please ask your waiter.")
        return bill

    def works(self, token: str) -> bool:
        """Whether the token opens a bill now (its page is served either way, with 404 when not)."""
        try:
            self._working(token)
        except BillGone:
            return False
        return True

    def state(self, token: str, share_id: str = "") -> dict[str, Any]:
        """The bill as a guest's page shows it: dishes with units paid, held and free, and the sums."""
        return self._state(self._working(token), share_id)

    def _state(self, bill: BillRecord, share_id: str = "") -> dict[str, Any]:
        now = time.time()
        shares = self._repo.bill_shares(bill.bill_id)
        seen = domain_bill(bill, shares, now)
        paid_units: dict[str, int] = {}
        held_units: dict[str, int] = {}
        for payment in shares:
            target = (
                paid_units
                if payment.status.is_paid and not payment.share_excluded
                else held_units
                if holding(payment, now)
                else None
            )
            for sku, quantity in share_terms(payment).units:
                if target is not None:
                    target[sku] = target.get(sku, 0) + quantity
        free = seen.units_free()
        minimum = self._provider.minimum_charge(bill.currency) or 1
        sums = progress(bill, shares, now)
        del sums["bill_id"]  # a guest needs only the token
        state: dict[str, Any] = {
            **sums,
            "split_ways": bill.split_ways,
            "equal_shares_left": None
            if bill.split_ways is None
            else max(0, bill.split_ways - seen.equal_shares_taken()),
            "minimum": minimum,
            "lines": [
                {
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_amount": line.unit_amount,
                    "paid": paid_units.get(line.sku, 0),
                    "held": held_units.get(line.sku, 0),
                    "free": max(0, free[line.sku]),
                }
                for line in seen.lines
            ],
            "tip_presets": json.loads(bill.tip_presets),
            "donations": self._checkouts.donations_enabled,
            "donation_partner": self._partner if self._checkouts.donations_enabled else "",
            "paid_shares": [
                {"amount": p.dish_subtotal, "tip_amount": p.tip_amount, "paid_at": p.paid_at}
                for p in shares
                if p.status.is_paid and not p.share_excluded
            ],
        }
        mine = next((p for p in shares if share_id and p.payment_id == share_id), None)
        if mine is not None:
            state["receipt"] = {
                "share_id": mine.payment_id,
                "status": mine.status.value,
                "amount": mine.dish_subtotal,
                "tip_amount": mine.tip_amount,
                "donation_amount": mine.donation_amount,
                "amount_total": mine.amount_total,
            }
        return state

    async def take_share(self, token: str, ask: ShareAsk) -> dict[str, Any]:
        """Price and hold the share a guest asks for, then open its hosted checkout (201's body)."""
        bill = self._working(token)
        self._check_extras(bill, ask)
        async with self._checkouts.locks.hold(bill.order_id):
            with self._repo.transaction():
                self._repo.lock_order(bill.order_id)
                payment, charged = self._hold_share(token, ask)
            self._notifier.notify(bill.kiosk_id)
            opened = await self._checkouts.open_hosted_checkout(
                payment, charged, back_to=f"{self._public_url}/bill/{token}?share={payment.payment_id}"
            )
        log.info("share_taken", bill_id=bill.bill_id, payment_id=payment.payment_id, mode=ask.mode.value)
        return {
            "share_id": opened.payment_id,
            "checkout_url": opened.checkout_url,
            "amount": opened.dish_subtotal,
            "tip_amount": opened.tip_amount,
            "donation_amount": opened.donation_amount,
            "amount_total": opened.amount_total,
            "expires_at": int(opened.hold_until or 0),
        }

    def _check_extras(self, bill: BillRecord, ask: ShareAsk) -> None:
        if ask.tip_amount < 0 or ask.donation_amount < 0:
            raise ShareRefused("A tip or a donation cannot be negative.", conflict=False)
        if ask.donation_amount and not self._checkouts.donations_enabled:
            raise ShareRefused("This restaurant does not take donations.", conflict=False)
        total = sum(line.amount for line in bill_lines(bill))
        if ask.tip_amount > total or ask.donation_amount > total:
            raise ShareRefused("A tip or a donation can be at most the whole bill.", conflict=False)

    def _hold_share(self, token: str, ask: ShareAsk) -> tuple[PaymentRecord, Order]:
        """Inside the transaction with the order locked: the share priced by the bill now, stored."""
        bill = self._working(token)  # read again under the lock: another guest may have just settled it
        if bill.status != OPEN:
            message = (
                "This bill is already paid." if bill.status == SETTLED else "Your waiter has taken over the payment."
            )
            raise ShareRefused(message, conflict=True, state=self._state(bill))
        if order_paid(self._repo, bill.order_id):  # an earlier checkout of the whole order was paid after all
            raise ShareRefused("This bill is already paid.", conflict=True, state=self._state(bill))
        if ask.version != bill.version:
            raise ShareRefused("The bill has changed: please check it again.", conflict=True, state=self._state(bill))
        now = time.time()
        attempts = self._repo.attempts(bill.order_id)
        seen = domain_bill(bill, [a for a in attempts if a.bill_id == bill.bill_id], now)
        minimum = self._provider.minimum_charge(bill.currency) or 1
        try:
            share = quote(
                seen,
                ask.mode,
                minimum=minimum,
                ways=ask.shares,
                pay_shares=ask.pay_shares,
                items=dict(ask.items),
                amount=ask.amount,
            )
        except SplitRefused as exc:
            raise ShareRefused(exc.message, conflict=exc.conflict, state=self._state(bill)) from None
        if share.amount + ask.tip_amount + ask.donation_amount < minimum:
            # The bill's last cents alone are below what the provider charges (it would refuse the checkout).
            raise ShareRefused(
                f"A payment must be at least {Money(minimum, bill.currency)}: add a tip to pay the last "
                f"{Money(share.amount, bill.currency)}.",
                conflict=False,
            )
        if share.amount + ask.tip_amount + ask.donation_amount > self._max_total:
            raise ShareRefused("This payment is larger than this restaurant accepts at once.", conflict=False)
        if ask.mode is SplitMode.EQUAL and bill.split_ways is None:
            self._repo.update_bill(bill.bill_id, split_ways=ask.shares)
        charged = self._share_order(bill, seen.lines, share, ask)
        payment = self._checkouts.new_attempt(
            charged,
            len(attempts) + 1,
            None,
            bill_id=bill.bill_id,
            share=share_json(share, bill.version),
            hold_until=now + self._hold,
        )
        self._repo.insert_payment(payment)
        shares = self._repo.bill_shares(bill.bill_id)
        self._repo.append_feed_many([payment], ["bill.share_open"], [progress_json(bill, shares, now)])
        return payment, charged

    @staticmethod
    def _share_order(bill: BillRecord, lines: tuple[BillLine, ...], share: Share, ask: ShareAsk) -> Order:
        """What the share's checkout charges: the guest's dishes, or their part as one line, and their tip."""
        if share.mode is SplitMode.ITEMS:
            by_sku = {line.sku: line for line in lines}
            charged = tuple(Line(sku, by_sku[sku].name, n, by_sku[sku].unit_amount) for sku, n in share.units)
        else:
            label = {SplitMode.EQUAL: f"{share.equal_shares} share(s) of the bill"}.get(share.mode, "Part of the bill")
            charged = (Line("BILL-SHARE", label, 1, share.amount),)
        return Order(
            order_id=bill.order_id,
            kiosk_id=bill.kiosk_id,
            currency=bill.currency,
            table="",
            waiter="",
            lines=charged,
            tip_amount=ask.tip_amount,
            donation_amount=ask.donation_amount,
        )

    # the hold job ---------------------------------------------------------------
    async def stop_lapsed_holds(self) -> int:
        """Stop the checkouts of shares whose hold lapsed (or was released); returns how many were seen.

        Expired at the provider: the share is expired and its part free. A provider that cannot stop it
        (Mollie, for some methods): the part is free all the same, and should the guest pay after all,
        the bill judges the late payment (bill_ledger.BillLedger.judge)."""
        lapsed = self._repo.lapsed_holds(time.time(), HOLD_JOB_BATCH)
        for payment in lapsed:
            if payment.provider_session_id is None:
                continue  # its checkout is being opened right now, or never was (the reconciler fails it)
            try:
                seen: Observation | None = await self._provider.expire_checkout(payment.provider_session_id)
            except CheckoutNotStoppable:
                seen = None  # stays open at the provider; its part is free here all the same
            except ProviderError as exc:
                giving_up = time.time() - (payment.hold_until or 0) > STOP_TRIES_SECONDS
                log.warning("hold_expire_failed", payment_id=payment.payment_id, error=str(exc), given_up=giving_up)
                if not giving_up:
                    continue  # tried again on the next round
                seen = None
            if seen is not None:
                # Our own expire reads back as expired; anything else (paid meanwhile) is applied as it is.
                if seen.status in (None, PaymentStatus.EXPIRED):
                    seen = Observation(status=PaymentStatus.EXPIRED)
                self._events.apply_observation(payment.payment_id, seen, "hold_lapsed")
            with self._repo.transaction():
                self._repo.update_payment(payment.payment_id, hold_until=0)
                bill = self._repo.bill(payment.bill_id) if seen is None and payment.bill_id else None
                if bill is not None:  # no share event says so: the kiosk hears its part is free again
                    self._feed(bill, "bill.updated")
            if seen is None:
                self._notifier.notify(payment.kiosk_id)
            log.info("hold_lapsed", payment_id=payment.payment_id, bill_id=payment.bill_id)
        return len(lapsed)

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                with self._repo.only_one_instance("share-holds") as mine:
                    if mine:
                        await self.stop_lapsed_holds()
            except Exception:
                log.exception("hold_job_error")
