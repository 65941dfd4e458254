"""Checkout use cases: open a hosted checkout for an order, cancel it, refresh it.

An order has at most one live attempt; a Paid order takes no new one; a
Failed, Cancelled or Expired attempt may be followed by attempt n+1.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from typing import Any

import structlog

from tablepay_domain.bill import Share, SplitMode
from tablepay_domain.money import Money
from tablepay_domain.order import KitchenMode, Limits, Line, Order, validate_order
from tablepay_domain.payment_state import PaymentStatus

from ..models import BillRecord, PaymentRecord, snapshot_json, utc_now
from ..providers.base import CheckoutNotStoppable, CheckoutRequest, Observation, PaymentProvider, ProviderError
from ..storage.repository import IdempotentRequest, Repository
from .bill_ledger import OPEN, BillChangeRefused, domain_bill, holding, order_paid, rebill, share_json
from .feed import FeedNotifier
from .order_status import OrderStatuses, kitchen_of
from .payment_events import PaymentEvents
from .pos_orders import LinesAlreadySent, OrderClosed, PosOrders, Sent

log = structlog.get_logger(__name__)

# Stripe accepts expires_at 30 min to 24 h after creation, measured on its
# clock when the request arrives: keep a margin so a slow request is not refused.
STRIPE_MIN_TTL, STRIPE_MAX_TTL, CLOCK_MARGIN = 1800, 86400, 30
PAY_FIRST_MESSAGE = "Pay first: this order goes to the kitchen once it is paid. Nothing was sent to the kitchen now."


class CheckoutError(Exception):
    """Refused with an HTTP status and a message a waiter understands."""

    status_code = 400
    code = "checkout_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unprocessable(CheckoutError):
    status_code, code = 422, "invalid_order"


class BelowMinimumCharge(Unprocessable):
    code = "below_minimum_charge"


class CurrencyNotTaken(Unprocessable):
    code = "currency_not_taken"


class Forbidden(CheckoutError):
    status_code, code = 403, "forbidden"


class NotFound(CheckoutError):
    status_code, code = 404, "not_found"


class Conflict(CheckoutError):
    status_code, code = 409, "conflict"


class DishesAlreadySent(Conflict):
    code = "lines_already_sent"


class PosDisabled(CheckoutError):
    status_code, code = 503, "pos_disabled"


class ProviderUnavailable(CheckoutError):
    status_code, code = 502, "provider_unavailable"


class KeyedLocks:
    """One asyncio lock per key (an order, a payment), dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._users: defaultdict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        self._users[key] += 1
        try:
            async with self.locks[key]:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self.locks[key]


class CheckoutService:
    def __init__(
        self,
        repo: Repository,
        provider: PaymentProvider,
        events: PaymentEvents,
        notifier: FeedNotifier,
        *,
        limits: Limits,
        public_url: str,
        ttl_seconds: int,
        donations_enabled: bool,
        donation_label: str,
        pos: PosOrders | None = None,
        kitchen: KitchenMode = KitchenMode.ON_SEND,
    ) -> None:
        """`pos` (when a POS is configured): a checkout first sends the POS what it has not seen (unless the
        order is pay-first); `kitchen`: TABLEPAY_KITCHEN, for orders that do not choose their own."""
        self._repo = repo
        self._provider = provider
        self._events = events
        self._notifier = notifier
        self._limits = limits
        self._public_url = public_url
        self._ttl = ttl_seconds
        self._donations_enabled = donations_enabled
        self._donation_label = donation_label
        self.locks = KeyedLocks()
        self.pos = pos
        self.kitchen = kitchen
        self._statuses = OrderStatuses(repo)

    @property
    def donations_enabled(self) -> bool:
        """Whether a checkout may carry a donation (the kiosks hide theirs when not)."""
        return self._donations_enabled

    def valid(self, order: Order, kiosk_id: str) -> Order:
        if order.kiosk_id != kiosk_id:
            raise Forbidden(f"this kiosk is {kiosk_id!r} but the order says {order.kiosk_id!r}")
        try:
            order = validate_order(order, self._limits)
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        if order.donation_amount and not self._donations_enabled:
            raise Unprocessable(
                "This restaurant does not take donations (no donation partner is set up on its sync service)."
            )
        owner = self._repo.order_kiosk(order.order_id)
        if owner not in (None, kiosk_id):
            raise Forbidden(f"order {order.order_id} belongs to another kiosk")
        return order

    def chargeable(self, order: Order) -> None:
        """Refuse a total the provider would refuse anyway, in words a waiter can act on (not a 502)."""
        if not self._provider.takes_currency(order.currency):
            raise CurrencyNotTaken(
                f"{self._provider.name.title()} does not take payments in {order.currency}: "
                "choose another currency in the kiosk's settings."
            )
        minimum = self._provider.minimum_charge(order.currency)
        if minimum is not None and order.amount_total < minimum:
            raise BelowMinimumCharge(
                f"The total {order.total()} is below the smallest card payment {self._provider.name.title()} "
                f"accepts ({Money(minimum, order.currency)})",
                minimum_amount=minimum,
            )

    async def create(self, order: Order, *, kiosk_id: str, idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
        order = self.valid(order, kiosk_id)
        # Only a checkout has a floor: the kitchen may get a 0.30 EUR espresso on its own.
        self.chargeable(order)
        snapshot = snapshot_json(order)
        if not idempotency_key:
            return await self._create(order, snapshot, None)
        request_hash = hashlib.sha256(snapshot.encode()).hexdigest()
        return await self.once_per_key(
            kiosk_id, idempotency_key, request_hash, lambda _resumed: self._create(order, snapshot, idempotency_key)
        )

    async def once_per_key(
        self, owner: str, key: str, request_hash: str, work: Callable[[bool], Awaitable[tuple[int, dict[str, Any]]]]
    ) -> tuple[int, dict[str, Any]]:
        """`work`'s answer, done once per (owner, Idempotency-Key): the same key and body again get the
        stored answer, another body 422. `work(resumed)`: True when an earlier request with this key died
        mid-way (its work is to be resumed, not done twice)."""
        # A key is reserved per (owner, key) before any work, not merely looked up under the
        # order's lock: requests reusing one key for different orders take different order locks,
        # and once all six of them opened checkouts. The in-process lock lets a same-body request
        # wait for the first one's answer; the database row makes the claim atomic.
        held = self._refuse_other_request(owner, key, request_hash)
        if held is not None and not held.in_progress:
            return held.status_code, held.response or {}
        async with self.locks.hold(f"idempotency-key\x00{owner}\x00{key}"):
            held = self._repo.reserve_idempotency_key(owner, key, request_hash)
            if held is not None:
                self._refuse_other_request(owner, key, request_hash, held)
                if not held.in_progress:
                    return held.status_code, held.response or {}
                # Still in progress while we hold the key's lock: its request died with an earlier
                # process (the service is one process). Its work is safe to resume: the live attempt
                # carries this key and Stripe's key is derived from the attempt.
            try:
                status, response = await work(held is not None)
            except BaseException:
                # Refused or failed: nothing to replay, so give the key back for a retry to work.
                self._repo.release_idempotency_key(owner, key)
                raise
            with self._repo.transaction():
                self._repo.finish_idempotent_request(owner, key, status, response)
            return status, response

    def _refuse_other_request(
        self, kiosk_id: str, key: str, request_hash: str, held: IdempotentRequest | None = None
    ) -> IdempotentRequest | None:
        """422 at once when the key was used for a different order, whether that one is finished or not."""
        held = held or self._repo.idempotent_request(kiosk_id, key)
        if held is not None and held.request_hash != request_hash:
            raise Unprocessable("this Idempotency-Key was already used for a different order", idempotency_key=key)
        return held

    async def _create(self, order: Order, snapshot: str, idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
        async with self.locks.hold(order.order_id):
            if self.pos is not None:
                self.queue_for_pos(order)
            payment = self.store_attempt(order, snapshot, idempotency_key)
            if payment.checkout_url is None:
                payment = await self.open_hosted_checkout(payment, self._charged(payment, order))
            return 201, payment.public()

    def queue_for_pos(self, order: Order) -> Sent:
        assert self.pos is not None
        try:
            return self.pos.send(order)
        except LinesAlreadySent as exc:
            raise DishesAlreadySent(str(exc)) from None
        except OrderClosed as exc:
            raise Conflict(str(exc)) from None

    async def send_to_pos(self, order: Order, *, kiosk_id: str) -> dict[str, Any]:
        """`POST /v1/orders`: queue for the POS the dishes it has not been sent yet."""
        if self.pos is None:
            raise PosDisabled("this service has no restaurant POS configured (RKEEPER_URL is empty)")
        order = self.valid(order, kiosk_id)
        async with self.locks.hold(order.order_id):
            sent = self.queue_for_pos(order)
        pay_first = sent.kitchen is KitchenMode.AFTER_PAYMENT
        return {
            "order_id": sent.order_id,
            "pos_status": sent.pos_status,
            "package": sent.package,
            "kitchen": sent.kitchen.value,
            "order_status": sent.order_status,
            "message": PAY_FIRST_MESSAGE if pay_first else None,
        }

    def store_attempt(
        self,
        order: Order,
        snapshot: str,
        idempotency_key: str | None,
        *,
        also: Callable[[PaymentRecord], None] | None = None,
    ) -> PaymentRecord:
        # One transaction with the order locked: another instance opening a checkout for the same order
        # waits, then finds this attempt live (the in-process lock alone serves one instance only).
        with self._repo.transaction():
            self._repo.lock_order(order.order_id)
            payment, new = self._live_or_new(order, snapshot, idempotency_key)
            if new:
                self._repo.upsert_order(order, snapshot, kitchen_of(self._repo, order, self.kitchen).value)
                self._repo.insert_payment(payment)
                self._repo.append_feed(payment)
                self._statuses.refresh(order.order_id)  # awaiting payment again after an expired attempt
                if also is not None:
                    also(payment)
        if new:
            self._notifier.notify(payment.kiosk_id)
        return payment

    def _live_or_new(self, order: Order, snapshot: str, idempotency_key: str | None) -> tuple[PaymentRecord, bool]:
        """The live attempt this request resumes, or a new one to store (True)."""
        attempts = self._repo.attempts(order.order_id)
        if order_paid(self._repo, order.order_id):
            raise Conflict(f"order {order.order_id} is already paid")
        bill = self._repo.bill_for_order(order.order_id)
        if bill is not None and bill.status == OPEN:
            raise Conflict(
                f"the bill of order {order.order_id} is being split between guests: stop the split first, "
                "then what is left can be paid in full"
            )
        now = time.time()
        # A released share's checkout may stay payable a while (a provider that cannot stop it): it no
        # longer blocks the order, and if it is paid after all its bill judges it (bill_ledger.py).
        live = [a for a in attempts if a.status.is_live and (a.bill_id is None or holding(a, now))]
        if live:
            current = live[0]
            # The same request again after a crash or a lost answer: carry on with it.
            if idempotency_key and current.idempotency_key == idempotency_key:
                return current, False
            raise Conflict(
                f"order {order.order_id} already has a checkout in progress (attempt "
                f"{current.attempt}); cancel it first",
                payment_id=current.payment_id,
            )
        if bill is not None:
            return self._rest_of_bill(order, bill, attempts, idempotency_key), True
        return self.new_attempt(order, len(attempts) + 1, idempotency_key), True

    def new_attempt(self, charged: Order, attempt: int, idempotency_key: str | None, **share: Any) -> PaymentRecord:
        """A new open attempt charging `charged` (`share`: a split bill's columns when it is a share)."""
        created = utc_now()
        return PaymentRecord(
            payment_id=f"pay_{uuid.uuid4().hex}",
            order_id=charged.order_id,
            attempt=attempt,
            kiosk_id=charged.kiosk_id,
            status=PaymentStatus.OPEN,
            currency=charged.currency,
            dish_subtotal=charged.dish_subtotal,
            tip_amount=charged.tip_amount,
            donation_amount=charged.donation_amount,
            amount_total=charged.amount_total,
            amount_refunded=0,
            snapshot=snapshot_json(charged),
            provider=self._provider.name,
            provider_session_id=None,
            provider_payment_intent=None,
            provider_charge=None,
            checkout_url=None,
            expires_at=None,
            idempotency_key=idempotency_key,
            failure_reason=None,
            created_at=created,
            updated_at=created,
            paid_at=None,
            **share,
        )

    def _rest_of_bill(
        self, order: Order, bill: BillRecord, attempts: list[PaymentRecord], idempotency_key: str | None
    ) -> PaymentRecord:
        """After a split was stopped, paying in full pays what the guests left: the bill's last share
        (with the kiosk's tip and donation), held for as long as its checkout lives."""
        try:
            bill = rebill(self._repo, bill, order)
        except BillChangeRefused as exc:
            raise DishesAlreadySent(str(exc)) from None
        left = domain_bill(bill, attempts, time.time())
        if left.remaining <= 0:
            raise Conflict(f"nothing is left to pay on order {order.order_id}: guests are paying the rest")
        share = Share(left.remaining, SplitMode.REMAINING)
        return self.new_attempt(
            self._rest_order(order, share.amount),
            len(attempts) + 1,
            idempotency_key,
            bill_id=bill.bill_id,
            share=share_json(share, bill.version),
            hold_until=time.time() + max(self._ttl, STRIPE_MIN_TTL),
        )

    @staticmethod
    def _rest_order(order: Order, amount: int) -> Order:
        """The rest of a split bill as one line (its tip and donation are the kiosk's)."""
        return replace(order, lines=(Line("BILL-REST", "Rest of the bill", 1, amount),))

    def _charged(self, payment: PaymentRecord, order: Order) -> Order:
        """What a checkout charges: the order, or for the rest of a split bill that rest."""
        return order if payment.bill_id is None else self._rest_order(order, payment.dish_subtotal)

    async def open_hosted_checkout(
        self,
        payment: PaymentRecord,
        order: Order,
        *,
        back_to: str | None = None,
        partner_urls: tuple[str, str] | None = None,
    ) -> PaymentRecord:
        """Open the provider's checkout for a stored attempt (`order`: what it charges). The guest comes
        back to our own page, or to `back_to` (a split bill's page) whether they paid or not, or to a
        partner's (return URL, cancel URL)."""
        success = f"{self._public_url}/pay/success?session_id={{CHECKOUT_SESSION_ID}}"
        cancel = f"{self._public_url}/pay/cancel?payment_id={payment.payment_id}"
        back = f"{self._public_url}/pay/success?payment_id={payment.payment_id}"
        if partner_urls is not None:
            success, cancel = partner_urls
            back = success
        request = CheckoutRequest(
            order=order,
            payment_id=payment.payment_id,
            attempt=payment.attempt,
            success_url=back_to or success,
            cancel_url=back_to or cancel,
            return_url=back_to or back,
            expires_at=int(time.time())
            + min(max(self._ttl, STRIPE_MIN_TTL + CLOCK_MARGIN), STRIPE_MAX_TTL - CLOCK_MARGIN),
            # Derived from our attempt id, so a retried create returns the same session.
            idempotency_key=f"tablepay-checkout-{payment.payment_id}",
            donation_label=self._donation_label,
        )
        try:
            hosted = await self._provider.create_checkout(request)
        except ProviderError as exc:
            self._events.apply_observation(
                payment.payment_id,
                Observation(status=PaymentStatus.FAILED, failure_reason=f"provider: {exc}"),
                "checkout_create_failed",
            )
            log.warning("checkout_create_failed", payment_id=payment.payment_id, error=str(exc))
            raise ProviderUnavailable(
                f"the payment provider could not open a checkout: {exc}", payment_id=payment.payment_id
            ) from exc
        if hosted.amount_total != payment.amount_total:
            with suppress(ProviderError):  # refused either way; a checkout that cannot be stopped just expires
                await self._provider.expire_checkout(hosted.session_id)
            self._events.apply_observation(
                payment.payment_id,
                Observation(status=PaymentStatus.FAILED, failure_reason="amount mismatch"),
                "checkout_amount_mismatch",
            )
            raise ProviderUnavailable(
                f"the provider computed {hosted.amount_total} instead of {payment.amount_total}; checkout refused"
            )
        with self._repo.transaction():
            self._repo.update_payment(
                payment.payment_id,
                provider_session_id=hosted.session_id,
                checkout_url=hosted.url,
                expires_at=hosted.expires_at,
            )
        updated = self._repo.payment(payment.payment_id)
        assert updated is not None
        log.info(
            "checkout_created",
            payment_id=payment.payment_id,
            order_id=payment.order_id,
            attempt=payment.attempt,
            amount_total=payment.amount_total,
            currency=payment.currency,
        )
        return updated

    def get(self, payment_id: str, kiosk_id: str | None) -> PaymentRecord:
        payment = self._repo.payment(payment_id)
        if payment is None or (kiosk_id is not None and payment.kiosk_id != kiosk_id):
            raise NotFound(f"no payment {payment_id}")
        return payment

    async def refresh(self, payment_id: str, kiosk_id: str | None) -> PaymentRecord:
        """Ask the provider server-side: the only confirmation besides a verified webhook."""
        payment = self.get(payment_id, kiosk_id)
        if not payment.provider_session_id:
            return payment
        try:
            obs = await self._provider.observe_checkout(payment.provider_session_id)
        except ProviderError as exc:
            raise ProviderUnavailable(f"could not ask the payment provider: {exc}") from exc
        return self._events.apply_observation(payment_id, obs, "refresh")

    async def cancel(self, payment_id: str, kiosk_id: str | None) -> PaymentRecord:
        payment = self.get(payment_id, kiosk_id)
        async with self.locks.hold(payment.order_id):
            payment = self.get(payment_id, kiosk_id)
            if payment.status is PaymentStatus.CANCELLED:
                return payment
            if not payment.status.is_live:
                raise Conflict(
                    f"payment {payment_id} is {payment.status.value} and cannot be cancelled",
                    status=payment.status.value,
                )
            obs = Observation(status=PaymentStatus.CANCELLED)
            if payment.provider_session_id:
                try:
                    seen = await self._provider.expire_checkout(payment.provider_session_id)
                except CheckoutNotStoppable as exc:
                    raise Conflict(str(exc), status=payment.status.value) from exc
                except ProviderError as exc:
                    raise ProviderUnavailable(f"could not cancel at the payment provider: {exc}") from exc
                # Our own expire call reads back as "expired"; anything else (paid, processing) wins.
                if seen.status not in (None, PaymentStatus.EXPIRED):
                    obs = seen
            updated = self._events.apply_observation(payment_id, obs, "cancel")
        if updated.status is not PaymentStatus.CANCELLED:
            raise Conflict(
                f"payment {payment_id} could not be cancelled: it is {updated.status.value}",
                status=updated.status.value,
            )
        return updated
