"""Manager mode on seeded data: the PIN and its stored lock, history filters/search/sort, day totals, CSV."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt

from bench.manager_seed import seed_payments
from pos_app.app import DB_NAME, Kiosk
from pos_app.pin import hash_pin
from pos_app.store import HistoryRow, ManagerStore, open_db
from pos_app.viewmodels import ManagerViewModel, PinResult
from tablepay_domain.day_totals import business_day_bounds, business_day_of

PIN = "8642"
DUBLIN = ZoneInfo("Europe/Dublin")


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def pick(qtbot, tab, picker, text: str) -> None:
    """Tap a filter's button, then the chip with `text` in the list that opens."""
    click(qtbot, picker.button)
    overlay = tab.choice_overlay
    assert overlay.isVisible()
    chip = next(c for c in overlay.chips.values() if c.text() == text)
    click(qtbot, chip)
    assert not overlay.isVisible()


def open_manager(qtbot, kiosk: Kiosk) -> None:
    kiosk.manager_vm.settings.manager_pin_hash = hash_pin(PIN)
    window = kiosk.window
    click(qtbot, window.nav_manager)
    assert window.manager_pin_pad.isVisible() and "manager PIN" in window.manager_pin_pad.message.text()
    for digit in PIN:
        click(qtbot, window.manager_pin_pad.keys[digit])
    click(qtbot, window.manager_pin_pad.ok_button)
    assert window.root.currentWidget() is window.manager_page


def manager_vm(tmp_path, now: list[float]) -> ManagerViewModel:
    from pos_app.client import SyncClient
    from pos_app.store import KioskStore

    from .conftest import kiosk_settings

    db = open_db(tmp_path / DB_NAME)
    return ManagerViewModel(
        KioskStore(db),
        ManagerStore(db),
        SyncClient("http://127.0.0.1:9", "t"),
        kiosk_settings(manager_pin_hash=hash_pin(PIN)),
        tmp_path / "exports",
        clock=lambda: now[0],
        tz=DUBLIN,
    )


def test_five_wrong_manager_pins_lock_for_a_minute_even_across_a_restart(tmp_path):
    now = [1_800_000_000.0]
    vm = manager_vm(tmp_path, now)
    assert [vm.check_pin("0000") for _ in range(4)] == [PinResult.WRONG] * 4
    restarted = manager_vm(tmp_path, now)  # the count is stored: a restart gives no fresh tries
    assert restarted.check_pin("0000") is PinResult.LOCKED
    assert manager_vm(tmp_path, now).check_pin(PIN) is PinResult.LOCKED  # even the right PIN, for a minute
    now[0] += 59
    assert manager_vm(tmp_path, now).check_pin(PIN) is PinResult.LOCKED
    now[0] += 2
    vm = manager_vm(tmp_path, now)
    assert vm.check_pin(PIN) is PinResult.OK and vm.data.pin_state() == (0, 0.0)


def test_the_manager_pin_pad_opens_manager_mode_and_says_when_locked(qtbot, kiosk: Kiosk):
    kiosk.settings_vm.settings.settings_pin_hash = hash_pin("1111")  # a different PIN for settings
    open_manager(qtbot, kiosk)
    click(qtbot, kiosk.window.manager_page.lock_button)
    pad = kiosk.window.manager_pin_pad
    click(qtbot, kiosk.window.nav_manager)
    for _ in range(5):
        for digit in "1111":  # the settings PIN does not open manager mode
            click(qtbot, pad.keys[digit])
        click(qtbot, pad.ok_button)
    assert "Too many wrong PINs" in pad.message.text()
    assert kiosk.window.root.currentWidget() is not kiosk.window.manager_page


def seeded(qtbot, kiosk: Kiosk, count: int = 400) -> None:
    seed_payments(kiosk.store.db, count, datetime.now(UTC) - timedelta(days=3), every=timedelta(minutes=7))
    open_manager(qtbot, kiosk)


def all_rows(tmp_path, where: str = "", params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(tmp_path / "kiosk" / DB_NAME) as conn:
        return conn.execute(
            "SELECT a.payment_id, a.order_id, o.table_label, o.waiter, a.status, a.amount_total, "
            "a.created_at FROM payment_attempts a JOIN orders o USING (order_id)" + where,
            params,
        ).fetchall()


def test_history_filters_search_and_sort_on_seeded_data(qtbot, kiosk: Kiosk, tmp_path):
    seeded(qtbot, kiosk)
    tab, model = kiosk.window.manager_page.history, kiosk.history_model
    assert model.total == 400 and model.rowCount() == model.PAGE  # one page read, more on scroll
    assert tab.count.text() == "400 payments"
    newest = max(all_rows(tmp_path), key=lambda r: r[6])
    assert model.row_at(0).payment_id == newest[0]  # newest first by default
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 400

    pick(qtbot, tab, tab.state, "Refunded")
    expected = {r[0] for r in all_rows(tmp_path, " WHERE a.status = 'refunded'")}
    assert {row.payment_id for row in model.rows} == expected and model.total == len(expected) == 20
    assert tab.state.value() == "Refunded" and tab.count.text() == "20 payments"
    pick(qtbot, tab, tab.waiter, "Bruno")
    expected = {r[0] for r in all_rows(tmp_path, " WHERE a.status = 'refunded' AND o.waiter = 'Bruno'")}
    assert {row.payment_id for row in model.rows} == expected
    pick(qtbot, tab, tab.state, "All states")
    pick(qtbot, tab, tab.waiter, "All waiters")
    pick(qtbot, tab, tab.table, "7")
    assert model.total == len(all_rows(tmp_path, " WHERE o.table_label = '7'")) and model.total > 0
    assert tab.table.value() == "Table 7"
    pick(qtbot, tab, tab.table, "All tables")

    qtbot.keyClicks(tab.search, "ord-00012")  # ord-000120 .. ord-000129
    assert sorted(row.order_id for row in model.rows) == [f"ord-{i:06d}" for i in range(120, 130)]
    tab.search.clear()

    tab.view.sortByColumn(model.column_of("total"), Qt.SortOrder.AscendingOrder)  # in SQL
    totals = [row.amount_total for row in model.rows]
    assert totals == sorted(totals) and totals[0] == min(r[5] for r in all_rows(tmp_path))
    tab.view.sortByColumn(model.column_of("waiter"), Qt.SortOrder.DescendingOrder)
    assert model.row_at(0).waiter == "Dmitri" and model.sort_key == "waiter"

    click(qtbot, tab.days.button)  # only the last business day: Last 7 days, then the first day stepped up to it
    days = tab.days_overlay
    click(qtbot, days.quick["Last 7 days"])
    assert tab.days.value() != "All days" and days.quick["Last 7 days"].isChecked()
    for _ in range(6):
        click(qtbot, days.first.plus)
    assert days.first.day.text() == days.last.day.text() and tab.days.value() == "Today"
    assert not days.last.plus.isEnabled()  # never past today
    click(qtbot, days.done_button)
    since, until = business_day_bounds(kiosk.manager_vm.today(), "04:00", kiosk.manager_vm.tz)
    expected = {r[0] for r in all_rows(tmp_path) if since <= datetime.fromisoformat(r[6]) < until}
    assert {row.payment_id for row in model.rows} == expected


def test_a_failed_export_says_so_and_frees_the_button(qtbot, kiosk: Kiosk, tmp_path, monkeypatch):
    seeded(qtbot, kiosk, 10)
    tab = kiosk.window.manager_page.history
    monkeypatch.setattr(kiosk.manager_vm.data, "file_path", lambda: str(tmp_path / "missing" / "kiosk.sqlite"))
    with qtbot.waitSignal(kiosk.manager_vm.exportDone, timeout=10_000):
        click(qtbot, tab.export_button)
    assert tab.export_message.text().startswith("Export failed: ") and tab.export_button.isEnabled()


def test_csv_export_of_the_filtered_history_matches_the_database(qtbot, kiosk: Kiosk, tmp_path):
    seeded(qtbot, kiosk, 120)
    tab = kiosk.window.manager_page.history
    pick(qtbot, tab, tab.waiter, "Ana")
    tab.bom.setChecked(True)
    with qtbot.waitSignal(kiosk.window.manager_page.manager.exportDone, timeout=10_000):
        click(qtbot, tab.export_button)
        assert not tab.export_button.isEnabled()  # the export runs on a worker thread; the screen stays live
    assert tab.export_button.isEnabled()
    path = next((tmp_path / "kiosk" / "exports").glob("payments-*.csv"))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "Saved 30 payments" in tab.export_message.text()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with sqlite3.connect(tmp_path / "kiosk" / DB_NAME) as conn:
        conn.row_factory = sqlite3.Row
        db = {
            r["payment_id"]: r
            for r in conn.execute(
                "SELECT a.*, o.table_label, o.waiter FROM payment_attempts a JOIN orders o USING (order_id) "
                "WHERE o.waiter = 'Ana'"
            )
        }
    assert len(rows) == len(db) == 30
    for row in rows:
        expected = db[row["payment_id"]]
        assert row["currency"] == "EUR" and row["waiter"] == "Ana" and row["table"] == expected["table_label"]
        for column, field in (
            ("dish_subtotal", "dish_subtotal"),
            ("tip", "tip_amount"),
            ("donation", "donation_amount"),
            ("total", "amount_total"),
            ("refunded", "amount_refunded"),
        ):
            assert Decimal(row[column]) * 100 == expected[field], (column, row)
            assert row[column].count(".") == 1 and len(row[column].split(".")[1]) == 2
        moment = datetime.fromisoformat(row["time"])
        assert moment.utcoffset() is not None and moment == datetime.fromisoformat(expected["created_at"]).replace(
            microsecond=0
        )
        assert row["state"] == expected["status"] and row["provider_reference"] == expected["provider_reference"]


def payment(
    store: ManagerStore,
    i: int,
    waiter: str,
    status: str,
    paid_at: datetime | None,
    created: datetime,
    *,
    dishes: int,
    tip: int,
    donation: int,
    partner: str = "Red Cross",
    refunded: int = 0,
    order_paid: bool = True,
) -> None:
    total = dishes + tip + donation
    iso = lambda m: m.astimezone(UTC).isoformat(timespec="milliseconds") if m else None
    store.db.execute(
        "INSERT INTO orders (order_id, table_label, waiter, currency, status, created_at, updated_at, "
        "paid_at) VALUES (?, '1', ?, 'EUR', ?, ?, ?, ?)",
        [f"o{i}", waiter, "paid" if order_paid else "open", iso(created), iso(created), iso(paid_at)],
    )
    store.db.execute(
        "INSERT INTO payment_attempts (payment_id, order_id, attempt, status, currency, amount_total, "
        "tip_amount, donation_amount, dish_subtotal, amount_refunded, donation_partner, created_at, "
        "paid_at, updated_at) VALUES (?, ?, 1, ?, 'EUR', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            f"p{i}",
            f"o{i}",
            status,
            total,
            tip,
            donation,
            dishes,
            refunded,
            partner,
            iso(created),
            iso(paid_at),
            iso(created),
        ],
    )


def test_day_totals_on_a_seeded_business_day(tmp_path):
    vm = manager_vm(tmp_path, [datetime(2026, 3, 6, 12, tzinfo=UTC).timestamp()])
    s = vm.data
    day = date(2026, 3, 5)
    at = lambda d, h, m=0: datetime(2026, 3, d, h, m, tzinfo=DUBLIN)
    payment(s, 1, "Ana", "paid", at(5, 12, 10), at(5, 12), dishes=3000, tip=450, donation=100)
    payment(
        s, 2, "Bruno", "paid", at(5, 19, 30), at(5, 19, 20), dishes=5000, tip=500, donation=200, partner="Food Bank"
    )
    payment(
        s, 3, "Ana", "partially_refunded", at(6, 1, 45), at(6, 1, 30), dishes=2000, tip=200, donation=0, refunded=1000
    )  # 01:45 on the 6th: the late shift counts to the 5th
    payment(s, 4, "Ana", "failed", None, at(5, 20), dishes=1500, tip=0, donation=0, order_paid=False)
    payment(s, 5, "Bruno", "paid", at(6, 4, 30), at(6, 4, 20), dishes=9999, tip=1, donation=0)  # the 6th
    payment(s, 6, "Ana", "paid", at(5, 3, 50), at(5, 3, 40), dishes=7777, tip=1, donation=0)  # still the 4th
    assert business_day_of(at(6, 1, 45), "04:00", DUBLIN) == day

    totals = vm.totals(day)
    assert totals.paid_orders == 3
    assert totals.gross == 3550 + 5700 + 2200
    assert totals.revenue == 3000 + 5000 + 2000  # dishes only: no tips, no donations
    assert totals.tips == 1150 and totals.tips_by_waiter == {"Ana": 650, "Bruno": 500}
    assert totals.donations == 300 and totals.donations_by_partner == {"Red Cross": 100, "Food Bank": 200}
    assert totals.refunds == 1000 and totals.net == totals.gross - 1000
    assert [p.payment_id for p in totals.attention] == ["p4"]
    assert totals.takings_by_hour == {12: 3550, 19: 5700, 1: 2200}

    path = vm.export_totals(day)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = {(r["section"], r["name"]): r["value"] for r in csv.DictReader(handle)}
    assert rows[("day", "revenue_dishes")] == "100.00" and rows[("day", "donations")] == "3.00"
    assert rows[("tips_by_waiter", "Ana")] == "6.50" and rows[("donations_by_partner", "Food Bank")] == "2.00"


@pytest.mark.parametrize("start", ["24:00", "4", "04:60", "ab:cd"])
def test_a_bad_business_day_start_is_refused(start):
    from .conftest import kiosk_settings

    with pytest.raises(ValueError, match="business_day_starts_at"):
        kiosk_settings(business_day_starts_at=start).validate()


# A paid attempt as manager mode reads it (also the chargeback tests' row).
PAID_ROW = HistoryRow(
    payment_id="pay_1",
    order_id="o-1",
    attempt=2,
    created_at="2026-11-23T12:00:00+00:00",
    paid_at="2026-11-23T12:01:00+00:00",
    table="7",
    waiter="Ana",
    status="paid",
    currency="EUR",
    dish_subtotal=1000,
    tip_amount=100,
    donation_amount=0,
    amount_total=1100,
    amount_refunded=0,
    provider_reference="pi_1",
    pos_status="paid",
    donation_partner=None,
    order_status="paid",
)


def test_reconciliation_reasons_name_what_disagrees() -> None:
    from pos_app.viewmodels.reconcile import compare

    row = PAID_ROW
    agreeing = {"status": "paid", "amount_refunded": 0, "pos_status": "paid", "attention": None}
    assert compare(row, agreeing) == ""
    assert compare(row, None) == "The sync service does not know this payment."
    assert compare(row, {**agreeing, "status": "refunded"}) == "The kiosk has it as paid, the service as refunded."
    assert compare(row, {**agreeing, "pos_status": "failed"}) == "Paid, but the POS has it as failed."
    assert (
        compare(row, {**agreeing, "attention": "double_payment: order o-1 was already paid by pay_0"})
        == "This order was paid twice: refund this payment."
    )
    flagged = {
        **agreeing,
        "attention": "provider_mismatch: a checkout.session.completed event about this payment "
        "does not match it (amount 1, not 1100 (minor units)). It was not applied.",
    }
    assert compare(row, flagged) == (
        "Check with the payment provider: a checkout.session.completed event about "
        "this payment does not match it (amount 1, not 1100 (minor units)). "
        "It was not applied."
    )
