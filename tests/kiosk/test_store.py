"""The kiosk's local SQLite: migrations, idempotent feed application, the cursor."""

from __future__ import annotations

import sqlite3

import pytest

from pos_app.store import KioskStore, open_db


@pytest.fixture
def store(tmp_path) -> KioskStore:
    return KioskStore(open_db(tmp_path / "kiosk.sqlite"))


def event(seq: int, status: str, name: str, order_id: str = "o1", payment_id: str = "p1") -> dict:
    return {
        "seq": seq,
        "event_id": f"e{seq}",
        "event": name,
        "order_id": order_id,
        "payment_id": payment_id,
        "attempt": 1,
        "status": status,
        "currency": "EUR",
        "amount_total": 1000,
        "tip_amount": 0,
        "donation_amount": 0,
        "amount_refunded": 0,
        "paid_at": None,
        "created_at": "x",
    }


def test_wal_and_migrations(tmp_path, store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = open_db(tmp_path / "kiosk.sqlite")  # re-opening applies nothing twice
    assert [m["name"] for m in again["_sqlite_migrations"].rows] == [
        "m001_initial",
        "m002_pos",
        "m003_manager",
        "m004_pending_refunds",
        "m005_history_order_indexes",
        "m006_chargebacks",
        "m007_split_bill",
        "m008_service_order_status",
        "m009_partner_orders",
    ]


def test_event_applied_twice_is_harmless(store):
    store.create_order("o1", "7", "EUR")
    store.add_line("o1", "MARG", "Pizza", 1000)
    page = [event(1, "open", "payment.created"), event(2, "paid", "payment.succeeded")]
    assert store.apply_events(page, 2) == ["o1", "o1"]
    assert store.apply_events(page, 2) == []
    assert store.order("o1").is_paid
    assert store.db.execute("SELECT COUNT(*) FROM applied_events").fetchone()[0] == 2


def test_a_stale_event_never_moves_a_payment_back(store):
    store.create_order("o1", "7", "EUR")
    store.apply_events([event(1, "paid", "payment.succeeded"), event(2, "expired", "payment.expired")], 2)
    assert store.latest_attempt("o1").status.value == "paid"
    assert store.order("o1").is_paid


def test_cursor_persists_across_restarts(tmp_path, store):
    store.apply_events([event(5, "open", "payment.created", order_id="unknown")], 5)
    assert KioskStore(open_db(tmp_path / "kiosk.sqlite")).cursor() == 5
    store.apply_events([], 3)  # never backwards
    assert store.cursor() == 5


def test_a_checkout_answer_never_marks_the_order_paid(store):
    store.create_order("o1", "7", "EUR")
    store.record_attempt({**event(1, "paid", "x"), "checkout_url": "http://c", "expires_at": 1})
    assert not store.order("o1").is_paid


def test_the_page_and_cursor_are_one_transaction(tmp_path, store):
    store.create_order("o1", "7", "EUR")
    bad = [event(1, "open", "payment.created"), {**event(2, "paid", "payment.succeeded"), "status": "bogus"}]
    with pytest.raises(ValueError):
        store.apply_events(bad, 2)
    with sqlite3.connect(tmp_path / "kiosk.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM applied_events").fetchone()[0] == 0
        assert conn.execute("SELECT after FROM feed_cursor").fetchone()[0] == 0


def partner_event(seq: int, status: str, name: str, table: str = "7") -> dict:
    return {**event(seq, status, name, order_id="ord_p", payment_id="pay_p"), "partner": "menu-app", "table": table}


def test_a_partners_event_records_its_order_once_and_a_repeat_changes_nothing(store):
    page = [partner_event(1, "open", "payment.created"), partner_event(2, "paid", "payment.succeeded")]
    assert store.apply_events(page, 2) == ["ord_p", "ord_p"]
    assert store.apply_events(page, 2) == []
    order = store.order("ord_p")
    assert (order.partner, order.table, order.waiter, order.currency, order.lines) == (
        "menu-app",
        "7",
        "menu-app",
        "EUR",
        (),
    )
    assert order.is_paid and order.latest_checkout is not None and order.latest_checkout.amount_total == 1000
    assert store.db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 1
    # Another kiosk's order (no partner named) is still skipped, never recorded.
    assert store.apply_events([event(3, "open", "payment.created", order_id="kiosk-2-x")], 3) == []
    assert store.open_order_for_table("7") is None


def test_a_partner_order_and_its_events_are_one_transaction_with_the_page(tmp_path, store):
    bad = [
        partner_event(1, "open", "payment.created"),
        {**partner_event(2, "paid", "payment.succeeded"), "status": "?"},
    ]
    with pytest.raises(ValueError):
        store.apply_events(bad, 2)
    with sqlite3.connect(tmp_path / "kiosk.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0
        assert conn.execute("SELECT after FROM feed_cursor").fetchone()[0] == 0


def test_lines_quantities_and_removal(store):
    store.create_order("o1", "7", "EUR")
    store.add_line("o1", "A", "A", 100)
    store.add_line("o1", "A", "A", 100)
    store.add_line("o1", "B", "B", 250)
    store.set_quantity("o1", "B", 0)
    assert [(line.sku, line.quantity) for line in store.order("o1").lines] == [("A", 2)]


def pos_event(seq: int, pos_status: str, order_id: str = "o1", payment_id: str = "") -> dict:
    return {
        **event(seq, "", f"pos.{pos_status}", order_id, payment_id),
        "attempt": 0,
        "amount_total": 0,
        "pos_status": pos_status,
    }


def test_pos_events_set_the_pos_status_with_the_cursor_and_payments_still_work(store):
    store.create_order("o1", "7", "EUR")
    store.add_line("o1", "MARG", "Pizza", 1000)
    assert store.order("o1").pos_status is None
    page = [pos_event(1, "queued"), event(2, "open", "payment.created"), pos_event(3, "in_pos")]
    assert store.apply_events(page, 3) == ["o1", "o1", "o1"]
    order = store.order("o1")
    assert order.pos_status == "in_pos" and store.cursor() == 3
    assert order.latest_attempt.status.value == "open" and not order.is_paid
    store.apply_events([event(4, "paid", "payment.succeeded"), pos_event(5, "paid", payment_id="p1")], 5)
    assert store.order("o1").is_paid and store.order("o1").pos_status == "paid"
    assert store.apply_events([pos_event(5, "paid", payment_id="p1")], 5) == []  # a repeat changes nothing


def test_a_pos_event_during_a_live_checkout_marks_every_dish_sent(store):
    store.create_order("o1", "7", "EUR")
    store.add_line("o1", "MARG", "Pizza", 1000, quantity=2)
    store.apply_events([pos_event(1, "queued")], 1)  # no live attempt: the kiosk cannot tell what went
    assert store.order("o1").sent == {}
    store.apply_events([event(2, "open", "payment.created"), pos_event(3, "in_pos")], 3)
    assert store.order("o1").sent == {"MARG": 2}


def test_sent_quantities_only_grow_and_the_order_cannot_go_below_them(store):
    from pos_app.store import AlreadySent

    store.create_order("o1", "7", "EUR")
    store.add_line("o1", "MARG", "Pizza", 1000, quantity=3)
    store.add_line("o1", "LEMO", "Lemonade", 350)
    store.mark_sent("o1", {"MARG": 2, "LEMO": 1})
    store.mark_sent("o1", {"MARG": 1})
    order = store.order("o1")
    assert order.sent == {"MARG": 2, "LEMO": 1} and order.unsent == {"MARG": 1}
    store.set_quantity("o1", "MARG", 2)
    with pytest.raises(AlreadySent):
        store.set_quantity("o1", "MARG", 1)
    with pytest.raises(AlreadySent):
        store.set_quantity("o1", "LEMO", 0)
    assert [(line.sku, line.quantity) for line in store.order("o1").lines] == [("MARG", 2), ("LEMO", 1)]


def test_a_send_answer_fills_the_pos_status_only_until_the_feed_speaks(store):
    store.create_order("o1", "7", "EUR")
    store.note_pos_status("o1", "queued")
    assert store.order("o1").pos_status == "queued"
    store.apply_events([pos_event(1, "in_pos")], 1)
    store.note_pos_status("o1", "queued")  # a late answer: the feed already said more
    assert store.order("o1").pos_status == "in_pos"


def test_pos_menu_cache_per_currency(tmp_path, store):
    assert store.cached_pos_menu("EUR") is None
    store.save_pos_menu("EUR", {"currency": "EUR", "categories": []})
    body, fetched_at = KioskStore(open_db(tmp_path / "kiosk.sqlite")).cached_pos_menu("EUR")
    assert body == {"currency": "EUR", "categories": []} and fetched_at
    assert store.cached_pos_menu("GBP") is None


def test_views_hold_no_sql_and_no_http():
    from pathlib import Path

    views = Path(__file__).resolve().parents[2] / "pos_app" / "views"
    for path in views.glob("*.py"):
        text = path.read_text().lower()
        assert not any(word in text for word in ("sqlite", "execute", "httpx")), path


def test_a_refund_without_an_answer_keeps_its_key_across_a_restart(tmp_path):
    from pos_app.store import ManagerStore

    first = ManagerStore(open_db(tmp_path / "kiosk.sqlite"))
    key = first.refund_key("pay_1", 500)
    assert key.startswith("refund-") and first.refund_key("pay_1", 500) == key
    assert first.refund_key("pay_1", 700) != key  # another amount is another refund
    again = ManagerStore(open_db(tmp_path / "kiosk.sqlite"))  # the kiosk restarted
    assert again.refund_key("pay_1", 500) == key
    again.refund_answered("pay_1", 500)
    assert again.refund_key("pay_1", 500) != key
