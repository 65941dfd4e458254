"""A real SQLite store of the sync service holding one open attempt: pay_1 of order o1, 23.00 EUR, session cs_1."""

from __future__ import annotations

from pathlib import Path

from sync_service.models import PaymentRecord, utc_now
from sync_service.storage.db import open_database
from sync_service.storage.repository import Repository
from tablepay_domain.payment_state import PaymentStatus


def store_with_open_payment(path: Path, *, tip_amount: int, donation_amount: int) -> Repository:
    """2,300 in all: dishes 2,000 plus the tip and the donation given (they must add up to 300)."""
    assert tip_amount + donation_amount == 300
    repo = Repository(open_database(path))
    now = utc_now()
    with repo.transaction():
        repo.conn.execute("INSERT INTO orders VALUES ('o1', 'k1', 'EUR', '4', 'Ana', '{}', ?, ?)", (now, now))
        repo.insert_payment(
            PaymentRecord(
                payment_id="pay_1",
                order_id="o1",
                attempt=1,
                kiosk_id="k1",
                status=PaymentStatus.OPEN,
                currency="EUR",
                dish_subtotal=2000,
                tip_amount=tip_amount,
                donation_amount=donation_amount,
                amount_total=2300,
                amount_refunded=0,
                snapshot="{}",
                provider="stripe",
                provider_session_id="cs_1",
                provider_payment_intent=None,
                provider_charge=None,
                checkout_url="http://x",
                expires_at=0,
                idempotency_key=None,
                failure_reason=None,
                created_at=now,
                updated_at=now,
                paid_at=None,
            )
        )
    return repo
