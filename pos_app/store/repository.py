"""Every SQL statement of the kiosk. Returns plain dataclasses; one connection, one writer.

Calls are small local statements on a WAL database (well under a millisecond),
so the GUI thread calls them directly; there is no network I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from tablepay_domain.money import Money
from tablepay_domain.order import Line
from tablepay_domain.payment_state import PaymentStatus, advance
from tablepay_domain.tips import DonationChoice, DonationKind, TipChoice, TipKind, Totals, compute_totals

from .bill import BILL_EVENTS, BILL_SETTLED, BillProgress, bill_of, is_share_event, save_bill
from .partner import record_partner_order


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# The kiosk's order lines are the domain's lines: one definition of sku, quantity, price.
LocalLine = Line

# What the service's POS status can be (pos.* feed events, POST /v1/orders answers).
POS_STATUSES = ("queued", "in_pos", "paid", "failed")
# The feed event of a chargeback: the payment keeps its status (paid) and gains amount_charged_back.
CHARGED_BACK = "payment.charged_back"
ORDER_STATUS_EVENT = "order.status"  # the service's order status moved (its `order_status`)


class AlreadySent(ValueError):
    """The kitchen already got more of this dish than the change would leave."""


@dataclass(frozen=True)
class Attempt:
    payment_id: str
    order_id: str
    attempt: int
    status: PaymentStatus
    currency: str
    amount_total: int
    tip_amount: int
    donation_amount: int
    checkout_url: str | None
    expires_at: int | None
    paid_at: str | None
    amount_refunded: int = 0
    provider_reference: str | None = None
    share: bool = False  # a share of a split bill: paid, it does not pay the order


@dataclass(frozen=True)
class LocalOrder:
    order_id: str
    table: str
    waiter: str
    currency: str
    note: str
    tip: TipChoice
    donation: DonationChoice
    status: str  # 'open' or 'paid'
    created_at: str
    updated_at: str
    paid_at: str | None
    lines: tuple[LocalLine, ...] = ()
    latest_attempt: Attempt | None = field(default=None)
    pos_status: str | None = None  # None: never sent to the POS
    sent: Mapping[str, int] = field(default_factory=dict)  # sku -> how many the kitchen got
    bill: BillProgress | None = None  # the split bill (None: never split)
    latest_checkout: Attempt | None = None  # the latest attempt that is not a share: the order's own checkout
    partner: str | None = None  # a partner's order (its name): its guest pays on the partner's checkout
    service_status: str | None = None  # the order status the service reports (None: not said yet)

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"

    def sent_quantity(self, sku: str) -> int:
        return self.sent.get(sku, 0)

    @property
    def unsent(self) -> dict[str, int]:
        """sku -> how many of the dish the kitchen has not had yet."""
        return {
            line.sku: line.quantity - self.sent_quantity(line.sku)
            for line in self.lines
            if line.quantity > self.sent_quantity(line.sku)
        }

    def totals(self) -> Totals:
        dishes = Money(sum(line.amount for line in self.lines), self.currency)
        return compute_totals(dishes, self.tip, self.donation)


def _attempt(row: Mapping[str, Any]) -> Attempt:
    return Attempt(
        row["payment_id"],
        row["order_id"],
        row["attempt"],
        PaymentStatus(row["status"]),
        row["currency"],
        row["amount_total"],
        row["tip_amount"],
        row["donation_amount"],
        row["checkout_url"],
        row["expires_at"],
        row["paid_at"],
        row["amount_refunded"],
        row["provider_reference"],
        bool(row["share"]),
    )


class KioskStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # -- orders ---------------------------------------------------------
    def create_order(self, order_id: str, table: str, currency: str, waiter: str = "") -> LocalOrder:
        now = _now()
        self.db.table("orders").insert(
            {
                "order_id": order_id,
                "table_label": table,
                "waiter": waiter,
                "currency": currency,
                "created_at": now,
                "updated_at": now,
            }
        )
        return self.order(order_id)

    def order(self, order_id: str) -> LocalOrder:
        row = next(self.db.query("SELECT * FROM orders WHERE order_id = ?", [order_id]), None)
        if row is None:
            raise KeyError(order_id)
        rows = list(self.db.query("SELECT * FROM lines WHERE order_id = ? ORDER BY position", [order_id]))
        lines = tuple(LocalLine(r["sku"], r["name"], r["quantity"], r["unit_amount"]) for r in rows)
        return LocalOrder(
            row["order_id"],
            row["table_label"],
            row["waiter"],
            row["currency"],
            row["note"],
            TipChoice(TipKind(row["tip_kind"]), row["tip_value"]),
            DonationChoice(DonationKind(row["donation_kind"]), row["donation_value"]),
            row["status"],
            row["created_at"],
            row["updated_at"],
            row["paid_at"],
            lines,
            self.latest_attempt(order_id),
            row["pos_status"],
            {r["sku"]: r["sent_quantity"] for r in rows if r["sent_quantity"]},
            bill_of(row),
            self.latest_attempt(order_id, shares=False),
            row["partner"],
            service_status=row["service_status"],
        )

    def open_order_for_table(self, table: str) -> LocalOrder | None:
        row = next(
            self.db.query(
                "SELECT order_id FROM orders WHERE table_label = ? AND status = 'open' AND partner IS NULL "
                "ORDER BY created_at DESC LIMIT 1",
                [table],
            ),
            None,
        )
        return self.order(row["order_id"]) if row else None

    def orders(self, status: str, since: str | None = None) -> list[LocalOrder]:
        sql = "SELECT order_id FROM orders WHERE status = ?"
        params: list[Any] = [status]
        if since is not None:
            sql += " AND COALESCE(paid_at, updated_at) >= ?"
            params.append(since)
        sql += " ORDER BY " + ("paid_at DESC" if status == "paid" else "created_at")
        return [self.order(row["order_id"]) for row in self.db.query(sql, params)]

    def _touch(self, order_id: str) -> None:
        self.db.execute("UPDATE orders SET updated_at = ? WHERE order_id = ?", [_now(), order_id])

    def add_line(self, order_id: str, sku: str, name: str, unit_amount: int, quantity: int = 1) -> None:
        with self.db.atomic():
            existing = next(
                self.db.query("SELECT quantity FROM lines WHERE order_id = ? AND sku = ?", [order_id, sku]), None
            )
            if existing:
                self.db.execute(
                    "UPDATE lines SET quantity = quantity + ? WHERE order_id = ? AND sku = ?", [quantity, order_id, sku]
                )
            else:
                position = next(
                    self.db.query(
                        "SELECT COALESCE(MAX(position), 0) + 1 AS p FROM lines WHERE order_id = ?", [order_id]
                    )
                )["p"]
                self.db.table("lines").insert(
                    {
                        "order_id": order_id,
                        "sku": sku,
                        "name": name,
                        "quantity": quantity,
                        "unit_amount": unit_amount,
                        "position": position,
                    }
                )
            self._touch(order_id)

    def set_quantity(self, order_id: str, sku: str, quantity: int) -> None:
        """Raises AlreadySent when the kitchen got more of the dish than `quantity`."""
        with self.db.atomic():
            sent = next(
                self.db.query("SELECT sent_quantity FROM lines WHERE order_id = ? AND sku = ?", [order_id, sku]),
                {"sent_quantity": 0},
            )["sent_quantity"]
            if quantity < sent:
                raise AlreadySent(f"{sent} already went to the kitchen")
            if quantity <= 0:
                self.db.execute("DELETE FROM lines WHERE order_id = ? AND sku = ?", [order_id, sku])
            else:
                self.db.execute(
                    "UPDATE lines SET quantity = ? WHERE order_id = ? AND sku = ?", [quantity, order_id, sku]
                )
            self._touch(order_id)

    def set_note(self, order_id: str, note: str) -> None:
        self.db.execute("UPDATE orders SET note = ?, updated_at = ? WHERE order_id = ?", [note, _now(), order_id])

    def set_tip(self, order_id: str, tip: TipChoice) -> None:
        self.db.execute(
            "UPDATE orders SET tip_kind = ?, tip_value = ?, updated_at = ? WHERE order_id = ?",
            [tip.kind.value, tip.value, _now(), order_id],
        )

    def set_donation(self, order_id: str, donation: DonationChoice) -> None:
        self.db.execute(
            "UPDATE orders SET donation_kind = ?, donation_value = ?, updated_at = ? WHERE order_id = ?",
            [donation.kind.value, donation.value, _now(), order_id],
        )

    # -- the kitchen (restaurant POS) -------------------------------------------
    def mark_sent(self, order_id: str, quantities: Mapping[str, int]) -> None:
        """The kitchen got these quantities (what a send-to-kitchen or checkout carried).

        Sent counts only grow, and an order line never holds fewer than the kitchen got.
        """
        with self.db.atomic():
            for sku, quantity in quantities.items():
                self.db.execute(
                    "UPDATE lines SET sent_quantity = MAX(sent_quantity, ?), quantity = MAX(quantity, ?) "
                    "WHERE order_id = ? AND sku = ?",
                    [quantity, quantity, order_id, sku],
                )
            self._touch(order_id)

    def note_pos_status(self, order_id: str, status: str) -> None:
        """A send-to-kitchen answer's status, kept only while the feed has said nothing yet:
        the answer can arrive after newer pos.* events, and the feed is in order."""
        if status in POS_STATUSES:
            self.db.execute(
                "UPDATE orders SET pos_status = ?, updated_at = ? WHERE order_id = ? AND pos_status IS NULL",
                [status, _now(), order_id],
            )

    def note_service_status(self, order_id: str, status: str, *, replace: bool = False) -> None:
        """The order status the service reports: from the feed (`replace`, in order), or from a
        send-to-kitchen answer, kept only while the feed has said nothing yet."""
        self.db.execute(
            "UPDATE orders SET service_status = ? WHERE order_id = ?"
            + ("" if replace else " AND service_status IS NULL"),
            [status, order_id],
        )

    def save_pos_menu(self, currency: str, body: Mapping[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO pos_menu_cache (currency, body, fetched_at) VALUES (?, ?, ?)",
            [currency, json.dumps(body), _now()],
        )

    def cached_pos_menu(self, currency: str) -> tuple[dict[str, Any], str] | None:
        """The last POS menu saved for this currency and when it was read, or None."""
        row = next(self.db.query("SELECT body, fetched_at FROM pos_menu_cache WHERE currency = ?", [currency]), None)
        return (json.loads(row["body"]), row["fetched_at"]) if row else None

    def delete_order(self, order_id: str) -> None:
        """Only an order that never reached the sync service may be discarded."""
        with self.db.atomic():
            if self.latest_attempt(order_id) is not None:
                raise ValueError("this order has a payment attempt; it cannot be discarded")
            self.db.execute("DELETE FROM lines WHERE order_id = ?", [order_id])
            self.db.execute("DELETE FROM orders WHERE order_id = ?", [order_id])

    # -- payment attempts ------------------------------------------------
    def latest_attempt(self, order_id: str, *, shares: bool = True) -> Attempt | None:
        """The order's latest attempt (`shares=False`: of its own checkouts, leaving a split bill's shares out)."""
        only = "" if shares else " AND share = 0"
        row = next(
            self.db.query(
                f"SELECT * FROM payment_attempts WHERE order_id = ?{only} ORDER BY attempt DESC LIMIT 1", [order_id]
            ),
            None,
        )
        return _attempt(row) if row else None

    def attempt(self, payment_id: str) -> Attempt | None:
        row = next(self.db.query("SELECT * FROM payment_attempts WHERE payment_id = ?", [payment_id]), None)
        return _attempt(row) if row else None

    def awaiting_service(self) -> tuple[int, int]:
        """(live checkouts of unpaid orders, refunds sent without an answer): what only the sync service
        can settle. The guest may have paid a live checkout while the kiosk was offline; the feed says so."""
        live = sorted(status.value for status in PaymentStatus if status.is_live)
        marks = ", ".join("?" for _ in live)
        checkouts = next(
            self.db.query(
                f"SELECT COUNT(*) AS n FROM payment_attempts a JOIN orders o USING (order_id) "
                f"WHERE a.status IN ({marks}) AND o.status = 'open' AND o.partner IS NULL",
                live,
            )
        )["n"]
        refunds = next(self.db.query("SELECT COUNT(*) AS n FROM pending_refunds"))["n"]
        return int(checkouts), int(refunds)

    def attempt_count(self, order_id: str) -> int:
        return int(
            next(self.db.query("SELECT COUNT(*) AS n FROM payment_attempts WHERE order_id = ?", [order_id]))["n"]
        )

    def record_attempt(self, payment: Mapping[str, Any], donation_partner: str | None = None) -> Attempt:
        """Remember an attempt the service answered with. Its status only moves forward, and a
        paid status here never marks the order paid: only `apply_events` does that.
        `donation_partner`: who the donation goes to (the kiosk's setting when it opened the checkout)."""
        with self.db.atomic():
            self._upsert_attempt(payment, donation_partner)
        found = self.attempt(str(payment["payment_id"]))
        assert found is not None
        return found

    def _upsert_attempt(self, payment: Mapping[str, Any], donation_partner: str | None = None) -> PaymentStatus:
        current = self.attempt(str(payment["payment_id"]))
        observed = PaymentStatus(payment["status"])
        status = advance(current.status, observed).after if current else observed
        row = {
            "payment_id": payment["payment_id"],
            "order_id": payment["order_id"],
            "attempt": payment["attempt"],
            "status": status.value,
            "currency": payment["currency"],
            "amount_total": payment["amount_total"],
            "tip_amount": payment["tip_amount"],
            "donation_amount": payment["donation_amount"],
            "paid_at": payment.get("paid_at"),
            "updated_at": _now(),
            "dish_subtotal": payment["amount_total"] - payment["tip_amount"] - payment["donation_amount"],
        }
        for key in ("checkout_url", "expires_at", "provider_reference"):
            if payment.get(key) is not None:  # a feed event without it must not erase what we know
                row[key] = payment[key]
        if payment.get("amount_charged_back") is not None:
            # As the service last said it, not the largest: a bank can reverse a chargeback.
            row["amount_charged_back"] = int(payment["amount_charged_back"])
        if payment.get("amount_refunded") is not None:
            # Refund events may come out of order: the largest refunded sum is the newest.
            row["amount_refunded"] = max(int(payment["amount_refunded"]), current.amount_refunded if current else 0)
        if current is None:
            row.setdefault("checkout_url", None)
            row.setdefault("expires_at", None)
            row["created_at"] = payment.get("created_at") or row["updated_at"]
            row["donation_partner"] = donation_partner
            self.db.table("payment_attempts").insert(row)
        else:
            if row["paid_at"] is None:
                del row["paid_at"]
            if donation_partner is not None:
                row["donation_partner"] = donation_partner
            self.db.table("payment_attempts").update(row["payment_id"], row)
        return status

    def record_bill(self, order_id: str, bill: Mapping[str, Any]) -> None:
        """The bill as the bill API answered (opened or stopped): shown at once, the feed follows.
        Never marks the order paid."""
        save_bill(self.db, order_id, bill, _now())

    # -- the feed ----------------------------------------------------------
    def cursor(self) -> int:
        return int(next(self.db.query("SELECT after FROM feed_cursor WHERE id = 1"))["after"])

    def apply_events(self, events: Iterable[Mapping[str, Any]], next_after: int) -> list[str]:
        """Apply a page of feed events and the new cursor in ONE transaction.

        An event seen before (same event_id) changes nothing; an event for an
        order this kiosk does not know is recorded and skipped, unless it is a
        partner's (it names the partner): that records the order. Returns the ids
        of the orders that changed. This is the only code that marks an order paid:
        a paid attempt that is not a share, or `bill.settled`.
        """
        changed: list[str] = []
        now = _now()
        with self.db.atomic():
            for event in events:
                inserted = self.db.execute(
                    "INSERT OR IGNORE INTO applied_events (event_id, seq, event, payment_id, applied_at, order_id, "
                    "status, amount_refunded, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        event["event_id"],
                        event["seq"],
                        event["event"],
                        event["payment_id"],
                        now,
                        event.get("order_id"),
                        event.get("status"),
                        event.get("amount_refunded"),
                        event.get("created_at"),
                    ],
                ).rowcount
                if not inserted:
                    continue
                order_id = str(event["order_id"])
                record_partner_order(self.db, event, now)
                if next(self.db.query("SELECT 1 FROM orders WHERE order_id = ?", [order_id]), None) is None:
                    continue
                name = str(event["event"])
                if name == ORDER_STATUS_EVENT:
                    self.note_service_status(order_id, str(event["order_status"]), replace=True)
                elif name.startswith("pos."):
                    self._apply_pos_event(order_id, event, now)
                elif name.startswith(BILL_EVENTS):
                    self._apply_bill_event(order_id, event, now)
                elif event.get("status"):  # about a payment (an event about none is recorded, nothing to apply)
                    status = self._upsert_attempt(event)
                    if name == CHARGED_BACK:
                        self._mark_charged_back(str(event["payment_id"]))
                    if status.is_paid and not self._is_share(str(event["payment_id"])):
                        self._mark_paid(order_id, event, now)
                    if isinstance(event.get("bill"), Mapping):  # a share's chargeback carries its bill too
                        save_bill(self.db, order_id, event["bill"], now)
                changed.append(order_id)
            self.db.execute("UPDATE feed_cursor SET after = MAX(after, ?) WHERE id = 1", [next_after])
        return changed

    def _apply_bill_event(self, order_id: str, event: Mapping[str, Any], now: str) -> None:
        """A share's change is its attempt's (marked a share, so it never pays the order); every bill event
        carries the bill's progress; only bill.settled marks the order paid."""
        name = str(event["event"])
        if is_share_event(name):
            self._upsert_attempt(event)
            self.db.execute("UPDATE payment_attempts SET share = 1 WHERE payment_id = ?", [event["payment_id"]])
        if isinstance(event.get("bill"), Mapping):
            save_bill(self.db, order_id, event["bill"], now)
        if name == BILL_SETTLED:
            self._mark_paid(order_id, event, now)

    def _is_share(self, payment_id: str) -> bool:
        return (
            next(self.db.query("SELECT share FROM payment_attempts WHERE payment_id = ?", [payment_id]))["share"] == 1
        )

    def _mark_charged_back(self, payment_id: str) -> None:
        self.db.execute("UPDATE payment_attempts SET charged_back = 1 WHERE payment_id = ?", [payment_id])

    def _mark_paid(self, order_id: str, event: Mapping[str, Any], now: str) -> None:
        self.db.execute(
            "UPDATE orders SET status = 'paid', paid_at = COALESCE(paid_at, ?), updated_at = ? WHERE order_id = ?",
            [event.get("paid_at") or now, now, order_id],
        )

    def chargebacks_without_amount(self, payment_ids: Iterable[str] | None = None) -> list[str]:
        """The charged-back payments (of `payment_ids`, or all) whose amount the kiosk does not know yet."""
        sql = "SELECT payment_id FROM payment_attempts WHERE charged_back = 1 AND amount_charged_back = 0"
        if payment_ids is None:
            return [row["payment_id"] for row in self.db.query(sql)]
        sql += " AND payment_id IN (SELECT value FROM json_each(?))"
        return [row["payment_id"] for row in self.db.query(sql, [json.dumps(sorted(set(payment_ids)))])]

    def _apply_pos_event(self, order_id: str, event: Mapping[str, Any], now: str) -> None:
        status = str(event.get("pos_status") or str(event["event"]).removeprefix("pos."))
        self.db.execute("UPDATE orders SET pos_status = ?, updated_at = ? WHERE order_id = ?", [status, now, order_id])
        # A checkout sends the POS every dish first. While its attempt is live (or paid) the
        # order is frozen, so the lines now are what the kitchen got.
        attempt = self.latest_attempt(order_id)
        if attempt is not None and (attempt.status.is_live or attempt.status.is_paid):
            self.db.execute("UPDATE lines SET sent_quantity = quantity WHERE order_id = ?", [order_id])
