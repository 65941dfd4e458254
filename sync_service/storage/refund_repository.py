"""SQL for refunds asked of the provider (their effect on a payment comes from its events)."""

from __future__ import annotations

from typing import Any

from ..models import utc_now
from .repository import Repository

_COLUMNS = (
    "refund_id",
    "payment_id",
    "amount",
    "currency",
    "status",
    "reason",
    "idempotency_key",
    "kiosk_id",
    "created_at",
)


class RefundRepository:
    def __init__(self, repo: Repository) -> None:
        self.conn = repo.conn

    def add(
        self,
        *,
        refund_id: str,
        payment_id: str,
        amount: int,
        currency: str,
        status: str,
        reason: str | None,
        idempotency_key: str,
        kiosk_id: str,
    ) -> None:
        """Once per provider refund: a retried request finds the same refund and adds nothing."""
        self.conn.execute(
            f"INSERT INTO refunds ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (refund_id, payment_id, amount, currency, status, reason, idempotency_key, kiosk_id, utc_now()),
        )

    def requested(self, payment_id: str) -> int:
        """What was asked to be refunded so far, failed refunds aside."""
        row = self.conn.execute(
            "SELECT coalesce(sum(amount), 0) FROM refunds WHERE payment_id = ? "
            "AND status NOT IN ('failed', 'canceled')",
            (payment_id,),
        ).fetchone()
        return int(row[0])

    def for_payment(self, payment_id: str) -> list[dict[str, Any]]:
        cursor = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM refunds WHERE payment_id = ? ORDER BY created_at", (payment_id,)
        )
        return [dict(zip(_COLUMNS, row, strict=True)) for row in cursor]
