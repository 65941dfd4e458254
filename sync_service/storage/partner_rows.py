"""Partners' rows: the partners themselves, their orders, and the outbox rows of their webhooks.

Part of Repository (a mixin over its one connection), like bill_rows.py. A partner's webhook is an
outbox row of topic PARTNER_TOPIC delivered by its own worker (services/partner_webhooks.py), never
by the general one: claims here take only that topic, partner by partner, so one partner's backlog
never fills a claim that other partners' rows are waiting behind.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, fields
from typing import Any

from ..models import utc_now
from .engine import POSTGRES, Connection, Dialect

PARTNER_TOPIC = "partner.webhook"


@dataclass(frozen=True)
class PartnerRecord:
    name: str
    key_hash: str
    webhook_url: str
    bearer_token: str | None
    secret: str
    previous_secret: str | None
    rotated_at: float | None
    disabled_at: str | None
    disabled_reason: str | None
    failing_since: float | None
    created_at: str

    def public(self) -> dict[str, Any]:
        """What may be shown: never the key's hash, the secrets or the bearer token."""
        return {
            "name": self.name,
            "webhook_url": self.webhook_url,
            "bearer_token": self.bearer_token is not None,
            "rotated_at": self.rotated_at,
            "disabled_at": self.disabled_at,
            "disabled_reason": self.disabled_reason,
            "failing_since": self.failing_since,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class PartnerOrderRecord:
    partner: str
    external_order_id: str
    order_id: str
    payment_id: str
    kitchen: str | None
    created_at: str


_PARTNER_COLUMNS = [f.name for f in fields(PartnerRecord)]
_ORDER_COLUMNS = [f.name for f in fields(PartnerOrderRecord)]
_DELIVERY_COLUMNS = ("id", "dedupe_key", "payment_id", "payload", "state", "attempts", "last_error", "created_at")


class PartnerRows:
    conn: Connection
    dialect: Dialect

    # partners ------------------------------------------------------------
    def insert_partner(self, partner: PartnerRecord) -> bool:
        """False when a partner of that name exists already."""
        cursor = self.conn.execute(
            f"INSERT INTO partners ({', '.join(_PARTNER_COLUMNS)}) VALUES ({', '.join('?' * len(_PARTNER_COLUMNS))}) "
            "ON CONFLICT DO NOTHING",
            tuple(getattr(partner, name) for name in _PARTNER_COLUMNS),
        )
        return cursor.rowcount == 1

    def _partners_where(self, where: str, args: tuple[Any, ...]) -> list[PartnerRecord]:
        cursor = self.conn.execute(f"SELECT {', '.join(_PARTNER_COLUMNS)} FROM partners WHERE {where}", args)
        return [PartnerRecord(**dict(zip(_PARTNER_COLUMNS, row, strict=True))) for row in cursor.fetchall()]

    def partner(self, name: str) -> PartnerRecord | None:
        found = self._partners_where("name = ?", (name,))
        return found[0] if found else None

    def partner_for_key_hash(self, key_hash: str) -> PartnerRecord | None:
        found = self._partners_where("key_hash = ?", (key_hash,))
        return found[0] if found else None

    def all_partners(self) -> list[PartnerRecord]:
        return self._partners_where("1 = 1 ORDER BY name", ())

    def update_partner(self, name: str, **changes: Any) -> bool:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        cursor = self.conn.execute(f"UPDATE partners SET {assignments} WHERE name = ?", (*changes.values(), name))
        return cursor.rowcount == 1

    def delete_partner(self, name: str) -> bool:
        return self.conn.execute("DELETE FROM partners WHERE name = ?", (name,)).rowcount == 1

    def partner_failed(self, name: str, now: float) -> float | None:
        """Record a failed delivery; returns since when the endpoint has been failing."""
        self.conn.execute("UPDATE partners SET failing_since = ? WHERE name = ? AND failing_since IS NULL", (now, name))
        row = self.conn.execute("SELECT failing_since FROM partners WHERE name = ?", (name,)).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def partner_succeeded(self, name: str) -> None:
        self.conn.execute(
            "UPDATE partners SET failing_since = NULL WHERE name = ? AND failing_since IS NOT NULL", (name,)
        )

    # partner orders --------------------------------------------------------
    def insert_partner_order(self, order: PartnerOrderRecord) -> bool:
        """False when the partner has an order of that external id already (another request took it first)."""
        cursor = self.conn.execute(
            f"INSERT INTO partner_orders ({', '.join(_ORDER_COLUMNS)}) VALUES ({', '.join('?' * len(_ORDER_COLUMNS))}) "
            "ON CONFLICT DO NOTHING",
            tuple(getattr(order, name) for name in _ORDER_COLUMNS),
        )
        return cursor.rowcount == 1

    def relink_partner_order(self, partner: str, external_order_id: str, payment_id: str) -> None:
        """The order's new attempt is the one its partner reads (its first could not be opened)."""
        self.conn.execute(
            "UPDATE partner_orders SET payment_id = ? WHERE partner = ? AND external_order_id = ?",
            (payment_id, partner, external_order_id),
        )

    def _partner_order_where(self, where: str, args: tuple[Any, ...]) -> PartnerOrderRecord | None:
        row = self.conn.execute(f"SELECT {', '.join(_ORDER_COLUMNS)} FROM partner_orders WHERE {where}", args)
        found = row.fetchone()
        return None if found is None else PartnerOrderRecord(**dict(zip(_ORDER_COLUMNS, found, strict=True)))

    def partner_order(self, partner: str, external_order_id: str) -> PartnerOrderRecord | None:
        return self._partner_order_where("partner = ? AND external_order_id = ?", (partner, external_order_id))

    def partner_order_of(self, order_id: str) -> PartnerOrderRecord | None:
        return self._partner_order_where("order_id = ?", (order_id,))

    # deliveries (outbox rows of PARTNER_TOPIC) ------------------------------
    @property
    def _partner_of_row(self) -> str:
        return self.dialect.json_text("payload", "partner")

    def partners_due(self, now: float) -> list[str]:
        """Partners with a delivery due now that no worker holds."""
        cursor = self.conn.execute(
            f"SELECT DISTINCT {self._partner_of_row} FROM outbox WHERE topic = ? AND state = 'pending' "
            "AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
            (PARTNER_TOPIC, now, now),
        )
        return sorted(str(row[0]) for row in cursor)

    def claim_partner_deliveries(
        self, partner: str, now: float, limit: int, lease_seconds: float
    ) -> list[dict[str, Any]]:
        """Up to `limit` due deliveries of one partner, each leased (on both engines: the worker runs them
        concurrently, so a row in flight must not be claimed again) with a token its outcome presents."""
        token = uuid.uuid4().hex
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.dialect.name == POSTGRES else ""
        cursor = self.conn.execute(
            "UPDATE outbox SET lease_until = ?, lease_token = ? WHERE id IN (SELECT id FROM outbox "
            f"WHERE topic = ? AND state = 'pending' AND {self._partner_of_row} = ? AND next_attempt_at <= ? "
            f"AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?{skip_locked}) "
            "RETURNING id, dedupe_key, payment_id, payload, attempts, lease_token, created_at",
            (now + lease_seconds, token, PARTNER_TOPIC, partner, now, now, limit),
        )
        names = ("id", "dedupe_key", "payment_id", "payload", "attempts", "lease_token", "created_at")
        rows = [{**dict(zip(names, row, strict=True)), "payload": json.loads(row[3])} for row in cursor]
        return sorted(rows, key=lambda row: int(row["id"]))

    def next_partner_delivery_due(self) -> float | None:
        row = self.conn.execute(
            "SELECT min(next_attempt_at) FROM outbox WHERE topic = ? AND state = 'pending'", (PARTNER_TOPIC,)
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def partner_deliveries(self, *, failed: bool = False, row_id: int | None = None) -> list[dict[str, Any]]:
        """Deliveries newest first, each with its partner and event; `failed`: only those given up on."""
        where = ["topic = ?"] + (["state = 'dead'"] if failed else []) + (["id = ?"] if row_id is not None else [])
        args: tuple[Any, ...] = (PARTNER_TOPIC, *(() if row_id is None else (row_id,)))
        cursor = self.conn.execute(
            f"SELECT {', '.join(_DELIVERY_COLUMNS)} FROM outbox WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT 500",
            args,
        )
        found = []
        for row in cursor:
            values = dict(zip(_DELIVERY_COLUMNS, row, strict=True))
            payload = json.loads(values.pop("payload"))
            found.append(
                {**values, "partner": payload["partner"], "event_id": values.pop("dedupe_key"), "type": payload["type"]}
            )
        return found

    def replay_partner_delivery(self, row_id: int) -> bool:
        """A given-up delivery back in line, due now, with a fresh schedule (its bytes are unchanged)."""
        cursor = self.conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL, "
            "lease_token = NULL WHERE id = ? AND topic = ? AND state = 'dead'",
            (time.time(), row_id, PARTNER_TOPIC),
        )
        return cursor.rowcount == 1

    def park_partner_deliveries(self, partner: str, reason: str) -> int:
        """Give up at once on every pending delivery of a partner (its endpoint was disabled or removed)."""
        cursor = self.conn.execute(
            "UPDATE outbox SET state = 'dead', last_error = ?, lease_until = NULL, lease_token = NULL "
            f"WHERE topic = ? AND state = 'pending' AND {self._partner_of_row} = ?",
            (reason, PARTNER_TOPIC, partner),
        )
        return int(cursor.rowcount)

    def purge_partner_deliveries(self, created_before: str) -> int:
        """Forget delivered and given-up deliveries older than the retention (30 days)."""
        cursor = self.conn.execute(
            "DELETE FROM outbox WHERE topic = ? AND state IN ('done', 'dead') AND created_at < ?",
            (PARTNER_TOPIC, created_before),
        )
        return int(cursor.rowcount)

    def partner_outcome(self, row_id: int, lease_token: str, *, state: str, error: str | None, next_at: float) -> bool:
        """Record a delivery's outcome, fenced by the lease (False: another worker holds it now)."""
        done_at = utc_now() if state == "done" else None
        cursor = self.conn.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, done_at = ?, "
            "lease_until = NULL, lease_token = NULL WHERE id = ? AND lease_token = ?",
            (state, None if error is None else error[:2000], next_at, done_at, row_id, lease_token),
        )
        return cursor.rowcount == 1
