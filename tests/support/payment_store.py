"""Payment attempts as the service stores them, for tests that write the store directly."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sync_service.models import PaymentRecord, utc_now
from sync_service.storage.db import open_database
from sync_service.storage.repository import Repository
from tablepay_domain.payment_state import PaymentStatus


def payment_record(**changes: Any) -> PaymentRecord:
    """An open attempt 1 of order o1 on kiosk k1, 10.00 EUR of dishes, with `changes` (field names)."""
    now = utc_now()
    record = PaymentRecord(
        payment_id="pay_1",
        order_id="o1",
        attempt=1,
        kiosk_id="k1",
        status=PaymentStatus.OPEN,
        currency="EUR",
        dish_subtotal=1000,
        tip_amount=0,
        donation_amount=0,
        amount_total=1000,
        amount_refunded=0,
        snapshot="{}",
        provider="stripe",
        provider_session_id=None,
        provider_payment_intent=None,
        provider_charge=None,
        checkout_url=None,
        expires_at=None,
        idempotency_key=None,
        failure_reason=None,
        created_at=now,
        updated_at=now,
        paid_at=None,
    )
    return replace(record, **changes)


def store_with_open_payment(path: Path, *, tip_amount: int, donation_amount: int) -> Repository:
    """A real SQLite store holding one open attempt: pay_1 of order o1, 23.00 EUR, session cs_1.

    2,300 in all: dishes 2,000 plus the tip and the donation given (they must add up to 300)."""
    assert tip_amount + donation_amount == 300
    repo = Repository(open_database(path))
    now = utc_now()
    with repo.transaction():
        repo.conn.execute(
            "INSERT INTO orders (order_id, kiosk_id, currency, table_label, waiter, snapshot, created_at, updated_at) "
            "VALUES ('o1', 'k1', 'EUR', '4', 'Ana', '{}', ?, ?)",
            (now, now),
        )
        repo.insert_payment(
            payment_record(
                dish_subtotal=2000,
                tip_amount=tip_amount,
                donation_amount=donation_amount,
                amount_total=2300,
                provider_session_id="cs_1",
                checkout_url="http://x",
                expires_at=0,
            )
        )
    return repo
