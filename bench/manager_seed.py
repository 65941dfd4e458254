"""Seed a kiosk store with payments for manager mode (bench/manager.py, tests, screenshots).

Rows go straight in with executemany in one transaction: 100,000 payments in a few seconds.
Deterministic: payment i always has the same table, waiter, amounts and state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

WAITERS = ("Ana", "Bruno", "Chiara", "Dmitri")
# i % 20 -> state: mostly paid, some refunds, a declined card and an open checkout now and then
STATES = ["paid"] * 15 + ["partially_refunded", "refunded", "failed", "expired", "open"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def seed_payments(
    db: sqlite_utils.Database,
    count: int,
    start: datetime,
    *,
    every: timedelta = timedelta(minutes=3),
    currency: str = "EUR",
    partner: str = "Red Cross",
    prefix: str = "",
) -> None:
    orders, attempts, events = [], [], []
    for i in range(count):
        at = start + every * i
        state = STATES[i % len(STATES)]
        paid = state in ("paid", "partially_refunded", "refunded")
        dishes = 1200 + (i * 37) % 6000
        tip = dishes * (10, 15, 0)[i % 3] // 100
        donation = 100 if i % 4 == 0 else 0
        total = dishes + tip + donation
        refunded = total // 3 if state == "partially_refunded" else total if state == "refunded" else 0
        order_id, payment_id = f"{prefix}ord-{i:06d}", f"{prefix}pay-{i:06d}"
        paid_at = _iso(at + timedelta(minutes=2)) if paid else None
        created = _iso(at)
        orders.append(
            (
                order_id,
                str(1 + i % 12),
                WAITERS[i % len(WAITERS)],
                currency,
                "paid" if paid else "open",
                created,
                paid_at or created,
                paid_at,
                "paid" if paid and i % 7 else "in_pos" if paid else None,
            )
        )
        attempts.append(
            (
                payment_id,
                order_id,
                1,
                state,
                currency,
                total,
                tip,
                donation,
                dishes,
                refunded,
                f"pi_{prefix}{i:06d}" if paid else f"cs_{prefix}{i:06d}",
                partner,
                created,
                paid_at,
                paid_at or created,
            )
        )
        events.append(
            (
                f"{prefix}ev-{i:06d}",
                i + 1,
                "payment.succeeded" if paid else f"payment.{state}",
                payment_id,
                paid_at or created,
                order_id,
                state,
                refunded,
                paid_at or created,
            )
        )
    with db.atomic():  # one transaction (the kiosk connection autocommits otherwise)
        db.conn.executemany(
            "INSERT INTO orders (order_id, table_label, waiter, currency, status, created_at, updated_at, paid_at, "
            "pos_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            orders,
        )
        db.conn.executemany(
            "INSERT INTO payment_attempts (payment_id, order_id, attempt, status, currency, amount_total, tip_amount, "
            "donation_amount, dish_subtotal, amount_refunded, provider_reference, donation_partner, created_at, "
            "paid_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            attempts,
        )
        db.conn.executemany(
            "INSERT INTO applied_events (event_id, seq, event, payment_id, applied_at, order_id, status, "
            "amount_refunded, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
