"""The split bill in the kiosk's store: bill.* feed events, their shares, the order's progress.

A share is its own attempt of the order; paid, it never pays the order: only bill.settled does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pos_app.store import HistoryFilter, KioskStore, ManagerStore, open_db
from tablepay_domain.day_totals import day_totals

from .test_store import event


@pytest.fixture
def store(tmp_path) -> KioskStore:
    s = KioskStore(open_db(tmp_path / "kiosk.sqlite"))
    s.create_order("o1", "7", "EUR")
    s.add_line("o1", "PIZ", "Pizza", 3200, 3)
    return s


def bill(status: str = "open", paid: int = 0, held: int = 0, guests: int = 0, version: int = 1) -> dict:
    return {
        "bill_id": "bill_1",
        "version": version,
        "status": status,
        "currency": "EUR",
        "total": 9600,
        "paid": paid,
        "held": held,
        "remaining": 9600 - paid - held,
        "guests_paying": guests,
    }


def share_event(seq: int, status: str, name: str, payment_id: str, amount: int, state: dict) -> dict:
    paid_at = "2026-12-02T12:00:00.000+00:00" if status == "paid" else None
    return {
        **event(seq, status, name, payment_id=payment_id),
        "attempt": seq,
        "amount_total": amount,
        "tip_amount": 100,
        "paid_at": paid_at,
        "created_at": "2026-12-02T11:58:00.000+00:00",
        "bill": state,
    }


def bill_event(seq: int, name: str, state: dict) -> dict:
    return {**event(seq, "", name, payment_id=""), "attempt": 0, "amount_total": 0, "bill": state}


PAGE = [
    bill_event(1, "bill.opened", bill()),
    share_event(2, "open", "bill.share_open", "s1", 4310, bill(held=4210, guests=1)),
    share_event(3, "paid", "bill.share_paid", "s1", 4310, bill(paid=4210)),
]


def test_a_paid_share_is_its_own_attempt_and_never_pays_the_order(store):
    assert store.apply_events(PAGE, 3) == ["o1", "o1", "o1"]
    order = store.order("o1")
    assert not order.is_paid and order.status == "open"
    share = store.attempt("s1")
    assert share is not None and share.share and share.status.value == "paid" and share.amount_total == 4310
    assert order.bill is not None and (order.bill.status, order.bill.paid, order.bill.remaining) == ("open", 4210, 5390)
    assert store.attempt("") is None  # the bill's own events make no attempt
    assert store.cursor() == 3


def test_bill_events_applied_twice_change_nothing(store):
    store.apply_events(PAGE, 3)
    assert store.apply_events(PAGE, 3) == []
    assert store.db.execute("SELECT COUNT(*) FROM applied_events").fetchone()[0] == 3
    assert store.db.execute("SELECT COUNT(*) FROM payment_attempts").fetchone()[0] == 1
    assert store.order("o1").bill.paid == 4210


def test_bill_settled_marks_the_order_paid(store):
    store.apply_events(PAGE, 3)
    last = [
        share_event(4, "open", "bill.share_open", "s2", 5390, bill(paid=4210, held=5390, guests=1)),
        share_event(5, "paid", "bill.share_paid", "s2", 5390, bill(paid=9600)),
    ]
    store.apply_events(last, 5)
    assert not store.order("o1").is_paid  # everything is paid, but only the bill says settled
    store.apply_events([{**bill_event(6, "bill.settled", bill("settled", paid=9600)), "paid_at": None}], 6)
    order = store.order("o1")
    assert order.is_paid and order.paid_at and order.bill.status == "settled" and order.bill.remaining == 0
    assert store.apply_events([bill_event(6, "bill.settled", bill("settled", paid=9600))], 6) == []


def test_a_payment_event_of_a_share_does_not_pay_the_order_either(store):
    store.apply_events(PAGE[:2], 2)
    assert store.apply_events([{**event(3, "paid", "payment.succeeded", payment_id="s1"), "attempt": 2}], 3)
    assert store.attempt("s1").status.value == "paid" and not store.order("o1").is_paid


def test_a_stopped_bill_and_the_rest_paid_in_full(store):
    store.apply_events(PAGE, 3)
    store.record_bill("o1", {**bill("stopped", paid=4210), "bill_url": "http://b"})  # the DELETE's answer
    assert store.order("o1").bill.is_stopped and not store.order("o1").is_paid
    store.apply_events([bill_event(4, "bill.stopped", bill("stopped", paid=4210))], 4)
    rest = {**event(5, "paid", "payment.succeeded", payment_id="p9"), "attempt": 3, "amount_total": 5390}
    store.apply_events([rest], 5)
    assert store.order("o1").is_paid  # the order's own checkout, not a share


def test_a_bad_bill_rolls_the_whole_page_back(store):
    bad = [PAGE[0], {**PAGE[1], "bill": {**bill(), "paid": "lots"}}]
    with pytest.raises(ValueError):
        store.apply_events(bad, 2)
    assert store.order("o1").bill is None and store.cursor() == 0
    assert store.db.execute("SELECT COUNT(*) FROM applied_events").fetchone()[0] == 0


def test_shares_are_in_the_history_and_each_paid_one_counts_in_the_day(store):
    manager = ManagerStore(store.db)
    store.apply_events(PAGE, 3)
    store.apply_events(
        [
            share_event(4, "paid", "bill.share_paid", "s2", 2000, bill(paid=6110)),
            share_event(5, "expired", "bill.share_expired", "s3", 1000, bill(paid=6110)),
        ],
        5,
    )
    rows = manager.attempts_of("o1")
    assert sorted((r.payment_id, r.share, r.status) for r in rows) == [
        ("s1", 1, "paid"),
        ("s2", 1, "paid"),
        ("s3", 1, "expired"),
    ]
    assert manager.history_count(HistoryFilter(order_search="o1")) == 3
    now = datetime.now(UTC)
    since, until = "2000-01-01T00:00:00.000+00:00", (now + timedelta(days=1)).isoformat()
    totals = day_totals(manager.day_payments(since, until), "EUR", UTC)
    assert totals.gross == 4310 + 2000 and totals.tips == 200 and totals.revenue == 4210 + 1900
    assert totals.paid_orders == 1


def test_a_shares_chargeback_keeps_the_order_paid_by_its_bill_and_the_bill_progress(store):
    store.apply_events([*PAGE, bill_event(4, "bill.settled", bill("settled", paid=9600))], 4)
    charged = {**share_event(5, "paid", "payment.charged_back", "s1", 4310, bill("settled", paid=9600, version=2))}
    store.apply_events([{**charged, "amount_charged_back": 4310}], 5)
    share = store.attempt("s1")
    assert share.share and store.db.execute("SELECT charged_back FROM payment_attempts").fetchone()[0] == 1
    assert store.order("o1").is_paid and store.order("o1").bill.version == 2
