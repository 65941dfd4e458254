"""The kiosks' feed: one ordered sequence, appended in the transactions that change payments and POS orders.

Part of Repository (a mixin over its one connection), like outbox_rows.py and webhook_request_rows.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tablepay_domain.payment_state import FEED_EVENT

from ..models import PaymentRecord, utc_now
from .engine import POSTGRES, Connection, Dialect
from .postgres import FEED_CHANNEL

# The kiosk id of a partner's orders is `partner:<name>` (services/partner_orders.py, owner_of).
PARTNER_PREFIX = "partner:"
# A partner's row, as the partial index feed_of_partners (migrations m016 / 0005) is defined: the same
# text, so SQLite and PostgreSQL both use it (no LIKE: no `%` in the storage's SQL literals).
PARTNER_ROW = "substr(kiosk_id, 1, 8) = 'partner:'"


class FeedRows:
    conn: Connection  # sqlite3's, or storage/postgres.py's with the same interface
    dialect: Dialect

    _FEED_COLUMNS_SQL = (
        "event_id, kiosk_id, event, order_id, payment_id, attempt, status, currency, amount_total, tip_amount, "
        "donation_amount, amount_refunded, paid_at, created_at, pos_status, provider_reference, bill, "
        "order_status"
    )

    @property
    def _feed_insert(self) -> str:
        """SQLite: seq is the rowid, taken under the single writer's lock, so in commit order. PostgreSQL:
        from the one counter row, locked until the commit, so in commit order too (a reader never skips
        a row whose transaction commits after a later one's)."""
        values = ", ".join("?" * 18)
        if self.dialect.name == POSTGRES:
            return (
                "WITH c AS (UPDATE feed_counter SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq) "
                f"INSERT INTO feed (seq, {self._FEED_COLUMNS_SQL}) SELECT c.last_seq, {values} FROM c RETURNING seq"
            )
        return f"INSERT INTO feed ({self._FEED_COLUMNS_SQL}) VALUES ({values}) RETURNING seq"

    @staticmethod
    def _feed_row(payment: PaymentRecord, event: str | None = None, bill: str | None = None) -> tuple[Any, ...]:
        return (
            str(uuid.uuid4()),
            payment.kiosk_id,
            event or FEED_EVENT[payment.status],
            payment.order_id,
            payment.payment_id,
            payment.attempt,
            payment.status.value,
            payment.currency,
            payment.amount_total,
            payment.tip_amount,
            payment.donation_amount,
            payment.amount_refunded,
            payment.paid_at,
            payment.updated_at,
            None,
            payment.provider_payment_intent or payment.provider_session_id,
            bill,
            None,
        )

    def append_feed(self, payment: PaymentRecord) -> int:
        seq = int(self.conn.execute(self._feed_insert, self._feed_row(payment)).fetchone()[0])
        self._tell_instances({payment.kiosk_id})
        return seq

    def append_feed_many(
        self, payments: list[PaymentRecord], events: list[str] | None = None, bills: list[str | None] | None = None
    ) -> None:
        """Feed rows in the given order (their seq follows it); `events` names each (default: by its status);
        `bills`: a share's bill progress (JSON) on its row."""
        names: list[str | None] = list(events) if events is not None else [None] * len(payments)
        progress = list(bills) if bills is not None else [None] * len(payments)
        self.conn.executemany(
            self._feed_insert,
            [self._feed_row(p, e, b) for p, e, b in zip(payments, names, progress, strict=True)],
        )
        self._tell_instances({p.kiosk_id for p in payments})

    def _tell_instances(self, kiosk_ids: set[str]) -> None:
        """PostgreSQL: a NOTIFY per kiosk, sent at this transaction's commit (and never if it rolls back),
        so a long poll of that kiosk waiting on another instance wakes (storage/postgres.py, listen_for_feed).
        The instance that wrote wakes its own polls after the commit, as on SQLite."""
        if self.dialect.name == POSTGRES:
            for kiosk_id in sorted(kiosk_ids):
                self.conn.execute(f"SELECT pg_notify('{FEED_CHANNEL}', ?)", (kiosk_id,))

    def _append_order_event(
        self,
        kiosk_id: str,
        order_id: str,
        event: str,
        currency: str,
        *,
        payment_id: str = "",
        pos_status: str | None = None,
        bill: str | None = None,
        order_status: str | None = None,
    ) -> None:
        """An event about an order rather than one payment's state: no attempt, status or amounts of its own."""
        head = (str(uuid.uuid4()), kiosk_id, event, order_id, payment_id, 0, "", currency)
        amounts = (0, 0, 0, 0, None)  # amount_total, tip, donation, refunded, paid_at
        tail = (utc_now(), pos_status, None, bill, order_status)  # provider_reference None
        self.conn.execute(self._feed_insert, (*head, *amounts, *tail))
        self._tell_instances({kiosk_id})

    def append_pos_feed(
        self, kiosk_id: str, order_id: str, currency: str, pos_status: str, payment_id: str = ""
    ) -> None:
        """A POS state change of an order, in the same feed as its payments (event `pos.<status>`)."""
        self._append_order_event(
            kiosk_id, order_id, f"pos.{pos_status}", currency, payment_id=payment_id, pos_status=pos_status
        )

    def append_bill_feed(self, kiosk_id: str, order_id: str, event: str, currency: str, bill: str) -> None:
        """A split bill's own change (`bill.opened`, `bill.updated`, `bill.settled`, `bill.stopped`), with
        its progress (JSON), in the same feed as its shares."""
        self._append_order_event(kiosk_id, order_id, event, currency, bill=bill)

    def append_order_status_feed(self, kiosk_id: str, order_id: str, currency: str, order_status: str) -> None:
        """The order's status changed (event `order.status`, with `order_status` set; no payment of its own)."""
        self._append_order_event(kiosk_id, order_id, "order.status", currency, order_status=order_status)

    _FEED_COLUMNS = (
        "seq",
        "event_id",
        "kiosk_id",
        "event",
        "order_id",
        "payment_id",
        "attempt",
        "status",
        "currency",
        "amount_total",
        "tip_amount",
        "donation_amount",
        "amount_refunded",
        "paid_at",
        "created_at",
        "pos_status",
        "provider_reference",
        "bill",
        "order_status",
    )

    def feed_after(self, after: int, limit: int, kiosk_id: str | None = None) -> list[dict[str, Any]]:
        """The rows after `after`: all of them (`kiosk_id` None: the POS sync), else this kiosk's and every
        partner's (a partner's order belongs to the restaurant: every kiosk shows it). A partner's row
        also carries `partner` (its name) and `table` (the order's table or "pickup …"), what a kiosk
        needs to record an order it has never seen; other rows keep their shape."""
        columns = ", ".join(f"f.{c}" for c in self._FEED_COLUMNS)
        joined = f"LEFT JOIN orders o ON o.order_id = f.order_id AND {PARTNER_ROW.replace('kiosk_id', 'f.kiosk_id')}"
        if kiosk_id is None:
            sql = f"SELECT {columns}, o.table_label FROM feed f {joined} WHERE f.seq > ? ORDER BY f.seq LIMIT ?"
            params: tuple[Any, ...] = (after, limit)
        else:
            # Two walks of an index each (feed_by_kiosk, feed_of_partners), merged: never a scan of
            # every partner row ever written.
            plain = ", ".join(self._FEED_COLUMNS)
            own = f"SELECT {plain} FROM feed WHERE kiosk_id = ? AND seq > ? ORDER BY seq LIMIT ?"
            partners = f"SELECT {plain} FROM feed WHERE {PARTNER_ROW} AND seq > ? ORDER BY seq LIMIT ?"
            sql = (
                f"SELECT {columns}, o.table_label FROM (SELECT * FROM ({own}) AS own UNION ALL "
                f"SELECT * FROM ({partners}) AS partners) AS f {joined} ORDER BY f.seq LIMIT ?"
            )
            params = (kiosk_id, after, limit, after, limit, limit)
        rows = []
        for values in self.conn.execute(sql, params):
            row = dict(zip(self._FEED_COLUMNS, values[:-1], strict=True))
            bill = row.pop("bill")
            if bill is not None:  # only bill events carry one: the others keep their shape
                row["bill"] = json.loads(bill)
            if str(row["kiosk_id"]).startswith(PARTNER_PREFIX):
                row["partner"] = str(row["kiosk_id"]).removeprefix(PARTNER_PREFIX)
                row["table"] = values[-1]
            rows.append(row)
        return rows
