"""What the POS must be told, queued in the same transaction as the change that causes it.

No POS I/O here: `PosOrders` writes packages, outbox rows, the POS status,
its feed events and the trail; services/pos_delivery.py carries the outbox
rows to the POS.

An `after_payment` (pay-first) order is not sent when the waiter sends it or a
checkout opens: the POS hears nothing of it until it is paid, and then its
dishes (as the paid payment or the settled bill had them) and its payment are
queued together, in that order, in the transaction that made it paid.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import structlog

from tablepay_domain.order import KitchenMode, Line, Order
from tablepay_domain.payment_state import PaymentStatus

from ..models import PaymentRecord, order_from_snapshot, snapshot_json
from ..storage.pos_repository import PosRepository
from ..storage.repository import Repository
from .bill_ledger import bill_lines, order_paid
from .feed import FeedNotifier
from .order_status import OrderStatuses, kitchen_of
from .outbox import WorkSignal

log = structlog.get_logger(__name__)

PACKAGE_TOPIC = "pos.package"
PAYMENT_TOPIC = "pos.payment"
TOPICS = (PACKAGE_TOPIC, PAYMENT_TOPIC)


class PosStatus(str, Enum):
    QUEUED = "queued"  # something waits to be sent
    IN_POS = "in_pos"  # every package is in the POS
    PAID = "paid"  # paid and closed in the POS
    FAILED = "failed"  # a step is parked as a dead letter; a manager must look


class LinesAlreadySent(Exception):
    """The kiosk's order has fewer of a dish than the kitchen already got."""


class OrderClosed(Exception):
    """The order is paid; nothing more can be sent to the POS for it."""


@dataclass(frozen=True)
class Sent:
    order_id: str
    pos_status: str | None  # None: the POS has not heard of the order (pay-first, not paid yet)
    package: int | None  # the package queued now, None when nothing was new
    kitchen: KitchenMode = KitchenMode.ON_SEND
    order_status: str | None = None


def new_line_guid() -> str:
    return "{" + str(uuid.uuid4()).upper() + "}"


def _quantities(lines: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line["sku"]] = totals.get(line["sku"], 0) + int(line["quantity"])
    return totals


class PosOrders:
    def __init__(
        self,
        repo: Repository,
        pos_repo: PosRepository,
        notifier: FeedNotifier,
        work: WorkSignal,
        kitchen: KitchenMode = KitchenMode.ON_SEND,
    ) -> None:
        """`kitchen`: TABLEPAY_KITCHEN, for orders that do not choose their own."""
        self._repo, self._pos, self._notifier, self._work = repo, pos_repo, notifier, work
        self._kitchen = kitchen
        self._statuses = OrderStatuses(repo)

    def send(self, order: Order) -> Sent:
        """Queue the dishes the POS has not been sent yet as one new package; a pay-first order is only
        stored (its dishes go once it is paid)."""
        with self._repo.transaction():
            self._repo.lock_order(order.order_id)  # another instance sending the same order waits
            if order_paid(self._repo, order.order_id):
                raise OrderClosed(f"order {order.order_id} is already paid; nothing more can go to the kitchen")
            kitchen = kitchen_of(self._repo, order, self._kitchen)
            self._repo.upsert_order(order, snapshot_json(order), kitchen.value)
            if kitchen is KitchenMode.AFTER_PAYMENT:
                pos_order = self._pos.pos_order(order.order_id)
                sent = Sent(order.order_id, pos_order["status"] if pos_order else None, None, kitchen)
            else:
                sent = self._queue_new_lines(order)
            status = self._statuses.refresh(order.order_id)
        if sent.package is not None:
            self._notifier.notify(order.kiosk_id)
            self._work.notify()
        return replace(sent, order_status=status.value if status else None)

    def _queue_new_lines(self, order: Order, *, paid: bool = False) -> Sent:
        """`paid`: the dishes a payment just paid for (pay-first): never refused, since the money is
        taken; only what the POS has not had yet is queued."""
        packages = self._pos.packages(order.order_id)
        already = _quantities([line for p in packages for line in p["lines"]])
        wanted = _quantities([{"sku": line.sku, "quantity": line.quantity} for line in order.lines])
        for sku, count in already.items():
            if wanted.get(sku, 0) < count and not paid:
                name = next(line["name"] for p in packages for line in p["lines"] if line["sku"] == sku)
                raise LinesAlreadySent(
                    f"{count} x {name} already went to the kitchen; the order cannot have fewer. "
                    "Void dishes at the restaurant's POS."
                )
        new_lines: list[dict[str, Any]] = []
        for line in order.lines:
            extra = wanted[line.sku] - already.get(line.sku, 0)
            if extra > 0 and all(n["sku"] != line.sku for n in new_lines):
                new_lines.append(
                    {
                        "sku": line.sku,
                        "name": line.name,
                        "quantity": extra,
                        "unit_amount": line.unit_amount,
                        "currency": order.currency,
                    }
                )
        pos_order = self._pos.pos_order(order.order_id)
        if not new_lines:
            return Sent(order.order_id, pos_order["status"] if pos_order else PosStatus.QUEUED.value, None)
        if pos_order is None:
            self._pos.add_pos_order(order.order_id, new_line_guid(), PosStatus.QUEUED.value)
            self._repo.append_pos_feed(order.kiosk_id, order.order_id, order.currency, PosStatus.QUEUED.value)
        number = len(packages) + 1
        self._pos.add_package(order.order_id, number, new_line_guid(), new_lines)
        self._repo.enqueue(
            PACKAGE_TOPIC,
            f"pos:{order.order_id}:package:{number}",
            None,
            {"order_id": order.order_id, "package": number},
            ordering_key=order.order_id,
        )
        self._pos.add_trail(
            order.order_id,
            "queued",
            f"package {number}: " + ", ".join(f"{line['quantity']} x {line['name']}" for line in new_lines),
        )
        self._set_status(order.order_id, order.kiosk_id, order.currency, PosStatus.QUEUED)
        return Sent(order.order_id, PosStatus.QUEUED.value, number)

    def _set_status(
        self, order_id: str, kiosk_id: str, currency: str, status: PosStatus, payment_id: str = "", **changes: Any
    ) -> None:
        current = self._pos.pos_order(order_id)
        if current is None:
            return
        self._pos.update_pos_order(order_id, status=status.value, **changes)
        if current["status"] != status.value:
            self._repo.append_pos_feed(kiosk_id, order_id, currency, status.value, payment_id)

    # inside PaymentEvents' transaction ------------------------------------------
    def _pay_first(self, order_id: str) -> bool:
        stored = self._repo.stored_order(order_id)
        return stored is not None and stored.kitchen == KitchenMode.AFTER_PAYMENT.value

    def follow(self, payment: PaymentRecord, became_paid: bool, charged_back: int = 0) -> bool:
        """React to a payment change; True when outbox work was queued. A pay-first order that became paid
        gets its dishes (as this payment paid for them) queued first, then the payment."""
        if became_paid and self._pay_first(payment.order_id):
            self._queue_new_lines(order_from_snapshot(payment.snapshot), paid=True)
        if self._pos.pos_order(payment.order_id) is None:
            return False
        if charged_back:
            # Like a refund, an operator's matter at the POS: the trail says what happened and what to do.
            self._pos.add_trail(
                payment.order_id,
                "chargeback_noted",
                f"{payment.payment_id}: the guest's bank took back {charged_back} (minor units) after the "
                "payment; the POS order is not changed: settle it at the POS if the chargeback stands",
            )
        if became_paid:
            queued = self._repo.enqueue(
                PAYMENT_TOPIC,
                f"pos:{payment.order_id}:payment:{payment.payment_id}",
                payment.payment_id,
                {"order_id": payment.order_id, "payment_id": payment.payment_id},
                ordering_key=payment.order_id,
            )
            self._pos.add_trail(payment.order_id, "payment_queued", f"{payment.payment_id} paid; queued for the POS")
            return queued
        if payment.status in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED):
            # Refunds are an operator action at the POS: record it, leave the closed POS order alone.
            self._pos.add_trail(
                payment.order_id,
                "refund_noted",
                f"{payment.payment_id} refunded {payment.amount_refunded} (minor units) at the "
                "provider; the POS order is not changed: book the return at the POS",
            )
        return False

    def follow_bill(self, order_id: str, bill_id: str, payment_ids: list[str]) -> bool:
        """A split bill was settled: the POS is paid once, one Payment line per share (frozen here). A
        pay-first order's dishes (the bill's, as settled) are queued first."""
        if self._pay_first(order_id):
            self._queue_bill_dishes(order_id, bill_id)
        if self._pos.pos_order(order_id) is None:
            return False
        queued = self._repo.enqueue(
            PAYMENT_TOPIC,
            f"pos:{order_id}:bill:{bill_id}",
            None,
            {"order_id": order_id, "payment_ids": payment_ids},
            ordering_key=order_id,
        )
        self._pos.add_trail(
            order_id, "payment_queued", f"bill {bill_id} settled by {len(payment_ids)} shares; queued for the POS"
        )
        return queued

    def _queue_bill_dishes(self, order_id: str, bill_id: str) -> None:
        stored, bill = self._repo.stored_order(order_id), self._repo.bill(bill_id)
        assert stored is not None and bill is not None, (order_id, bill_id)
        lines = tuple(Line(b.sku, b.name, b.quantity, b.unit_amount) for b in bill_lines(bill))
        self._queue_new_lines(replace(order_from_snapshot(stored.snapshot), lines=lines), paid=True)

    # outbox outcomes (inside the worker's transaction) ----------------------------
    def delivered(
        self,
        order_id: str,
        step: str,
        detail: str,
        status: PosStatus | None = None,
        payment_id: str = "",
        **changes: Any,
    ) -> None:
        self._pos.add_trail(order_id, step, detail)
        if status is not None:
            kiosk_id, currency = self._order_identity(order_id)
            self._set_status(order_id, kiosk_id, currency, status, payment_id, last_error=None, **changes)
        elif changes:
            self._pos.update_pos_order(order_id, **changes)
        self._statuses.refresh(order_id)  # in the kitchen once a package is in, closed once paid there

    def parked(self, row: dict[str, Any], error: str) -> None:
        order_id = row["payload"]["order_id"]
        self._pos.add_trail(order_id, "dead_letter", f"{row['topic']} parked: {error}")
        kiosk_id, currency = self._order_identity(order_id)
        self._set_status(order_id, kiosk_id, currency, PosStatus.FAILED, last_error=error)

    def retried(self, row: dict[str, Any]) -> None:
        order_id = row["payload"]["order_id"]
        self._pos.add_trail(order_id, "retry", f"{row['topic']} put back in line by hand")
        kiosk_id, currency = self._order_identity(order_id)
        self._set_status(order_id, kiosk_id, currency, PosStatus.QUEUED)

    def _order_identity(self, order_id: str) -> tuple[str, str]:
        return self._pos.order_identity(order_id)

    def notify(self, order_id: str) -> None:
        self._notifier.notify(self._order_identity(order_id)[0])

    def status(self, order_id: str) -> dict[str, Any] | None:
        found = self._pos.pos_order(order_id)
        if found is None:
            return None
        return {**found, "packages": self._pos.packages(order_id), "trail": self._pos.trail(order_id)}
