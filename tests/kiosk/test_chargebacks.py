"""Chargebacks in manager mode: the guest's bank took money back after the payment was Paid.

Live: a payment paid through the real kiosk, sandbox and sync service, then the service's rows written as
the service writes a chargeback (its payment's attention note and amount, a payment.charged_back feed
event), because the provider fake that makes real ones is written elsewhere. Then the history, the
reconciliation tab and the day's totals, on the real widgets. Headless: `compare`'s exact words.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from pos_app.app import Kiosk
from pos_app.client import SyncClient
from pos_app.feed import Connection, FeedWorker
from pos_app.store import KioskStore, ManagerStore, open_db
from pos_app.viewmodels.reconcile import compare
from tablepay_domain.day_totals import DayPayment, day_totals
from tablepay_domain.money import Money
from tablepay_domain.payment_state import PaymentStatus
from tablepay_locale import format_money
from tests.support.harness import Harness

from .test_kiosk_flows import LONG, click
from .test_manager import PAID_ROW, open_manager
from .test_manager_live import paid_order, select

NOTE = "chargeback: the guest's bank took back €20.00 of this payment (contest it in the Mollie dashboard)"
SAID = (
    "The guest's bank took back €20.00 (a chargeback): "
    "contest it in the payment provider's dashboard if the meal was served."
)


def charge_back(harness: Harness, payment_id: str, amount: int, attention: str) -> bool:
    """What the sync service writes for a chargeback, in one transaction. Returns whether its payments
    table keeps the amount (the column comes with the Mollie work; without it the kiosk shows no amount)."""
    with harness.db() as conn:
        conn.row_factory = sqlite3.Row
        keeps_amount = "amount_charged_back" in {row["name"] for row in conn.execute("PRAGMA table_info(payments)")}
        if keeps_amount:
            conn.execute("UPDATE payments SET amount_charged_back = ? WHERE payment_id = ?", [amount, payment_id])
        conn.execute("UPDATE payments SET attention = ? WHERE payment_id = ?", [attention, payment_id])
        last = conn.execute(
            "SELECT * FROM feed WHERE payment_id = ? ORDER BY seq DESC LIMIT 1", [payment_id]
        ).fetchone()
        row = {
            **dict(last),
            "event_id": str(uuid.uuid4()),
            "event": "payment.charged_back",  # the status stays the payment's: paid
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        del row["seq"]
        conn.execute(f"INSERT INTO feed ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    return keeps_amount


def test_a_chargeback_shows_in_the_history_the_reconciliation_and_the_day(qtbot, kiosk: Kiosk, harness: Harness):
    payment = paid_order(qtbot, kiosk, harness)  # €42.00
    keeps_amount = charge_back(harness, payment["payment_id"], 2000, NOTE)
    shown = " · charged back €20.00" if keeps_amount else " · charged back"
    open_manager(qtbot, kiosk)
    model, page = kiosk.history_model, kiosk.window.manager_page
    # The feed's payment.charged_back marks it; the amount is read from GET /v1/payments/{id}.
    qtbot.waitUntil(
        lambda: model.text(model.row_at(select(qtbot, kiosk, payment["payment_id"])), "state") == "Paid" + shown,
        timeout=LONG,
    )
    row = model.row_at(select(qtbot, kiosk, payment["payment_id"]))
    assert row.status == "paid" and row.is_charged_back
    events = [e.event for e in kiosk.manager_vm.detail(row.order_id).attempts[-1].events]
    assert events[-1] == "payment.charged_back"

    click(qtbot, page.tab_buttons[2])
    tab = page.reconcile
    click(qtbot, tab.check_button)
    qtbot.waitUntil(lambda: not kiosk.reconcile_vm.busy and bool(kiosk.reconcile_vm.rows), timeout=LONG)
    [mismatch] = kiosk.reconcile_vm.rows
    assert mismatch.payment_id == payment["payment_id"] and tab.table.item(0, 5).text() == (
        SAID
        if keeps_amount
        else "The guest's bank took back money from this payment (a chargeback): "
        "contest it in the payment provider's dashboard if the meal was served."
    )

    click(qtbot, page.tab_buttons[1])
    totals = page.totals
    totals.show_day(kiosk.manager_vm.today())
    assert totals.values["refunds"].text() == "€0.00"
    if keeps_amount:
        assert totals.chargebacks.isVisible() and totals.chargebacks.text() == "Chargebacks −€20.00"


# -- headless: the words ------------------------------------------------------------------------------

ROW = PAID_ROW
AGREEING = {"status": "paid", "amount_refunded": 0, "pos_status": "paid", "attention": None}
DOUBLE = "double_payment: order o-1 was already paid by pay_0"
MISMATCH = "provider_mismatch: a payment event about this payment does not match it (amount 1). It was not applied."


def test_a_chargeback_is_told_with_the_amount_as_the_kiosk_shows_money():
    assert compare(ROW, {**AGREEING, "attention": NOTE, "amount_charged_back": 2000}) == SAID
    # A lookup without the amount: the one the feed brought to the kiosk.
    charged = replace(ROW, amount_charged_back=2000, charged_back=1)
    assert compare(charged, {**AGREEING, "attention": NOTE}) == SAID
    assert compare(ROW, {**AGREEING, "attention": NOTE}).startswith("The guest's bank took back money from this")
    german = lambda amount, currency: format_money(Money(amount, currency), "de_DE")
    assert "took back 20,00\xa0€ (a chargeback)" in compare(
        ROW, {**AGREEING, "attention": NOTE, "amount_charged_back": 2000}, german
    )


def test_a_chargeback_never_hides_a_double_payment_or_a_provider_mismatch():
    remote = {**AGREEING, "amount_charged_back": 2000}
    paid_twice = "This order was paid twice: refund this payment."
    # The service joins its notes with " | " in the order they came; the kiosk tells the most urgent first.
    assert compare(ROW, {**remote, "attention": f"{NOTE} | {DOUBLE}"}) == f"{paid_twice} {SAID}"
    assert compare(ROW, {**remote, "attention": f"{DOUBLE} | {NOTE}"}) == f"{paid_twice} {SAID}"
    checked = "Check with the payment provider: a payment event about this payment does not match it (amount 1)."
    assert compare(ROW, {**remote, "attention": f"{NOTE} | {MISMATCH} | {DOUBLE}"}) == (
        f"{checked} It was not applied. {paid_twice} {SAID}"
    )
    assert compare(ROW, {**remote, "attention": "something_new: a note this kiosk does not know"}) == ""


def test_chargebacks_come_off_the_net_apart_from_refunds():
    paid = DayPayment(
        "p1", "o1", PaymentStatus.PAID, "Ana", "EUR", 3600, 540, 60, 4200, 1000, "Red Cross", None, True, 2000
    )
    totals = day_totals([paid], "EUR", UTC)
    assert (totals.gross, totals.revenue, totals.tips, totals.donations) == (4200, 3600, 540, 60)
    assert (totals.refunds, totals.chargebacks, totals.net) == (1000, 2000, 1200)


# -- headless: the feed's chargeback, the service faked ------------------------------------------------


def feed_event(seq: int, event: str, **extra: object) -> dict:
    return {
        "seq": seq,
        "event_id": f"evt-{seq}",
        "event": event,
        "order_id": "o-1",
        "payment_id": "pay_1",
        "attempt": 1,
        "status": "paid",
        "currency": "EUR",
        "amount_total": 4200,
        "tip_amount": 540,
        "donation_amount": 60,
        "amount_refunded": 0,
        "paid_at": "2026-11-23T12:01:00+00:00",
        "created_at": "2026-11-23T12:01:00+00:00",
        **extra,
    }


class FakeFeed:
    """GET /v1/events hands out `pages` one by one; GET /v1/payments/pay_1 answers `amount` (or fails)."""

    def __init__(self, pages: list[list[dict]], amount: int | None) -> None:
        self.pages, self.amount, self.asked = pages, amount, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.path)
        if request.url.path == "/v1/events":
            events = self.pages.pop(0) if self.pages else []
            return httpx.Response(200, json={"events": events, "next_after": events[-1]["seq"] if events else 0})
        if self.amount is None:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={**feed_event(0, ""), "amount_charged_back": self.amount})


def run_feed(tmp_path: Path, service: FakeFeed, polls: int, online: bool = True) -> KioskStore:
    store = KioskStore(open_db(tmp_path / "k.sqlite"))
    if store.attempt("pay_1") is None:
        store.create_order("o-1", "7", "EUR", "Ana")

    async def run() -> None:
        client = SyncClient("http://sync.invalid", "t", transport=httpx.MockTransport(service))
        worker = FeedWorker(client, store)
        worker.state = Connection.ONLINE if online else Connection.OFFLINE
        try:
            for _ in range(polls):
                await worker.poll_once(wait=0)
        finally:
            await client.aclose()

    asyncio.run(run())
    return store


def test_a_charged_back_event_without_its_amount_reads_it_from_the_payment(tmp_path):
    service = FakeFeed([[feed_event(1, "payment.succeeded"), feed_event(2, "payment.charged_back")]], amount=2000)
    store = run_feed(tmp_path, service, polls=1)
    assert service.asked == ["/v1/events", "/v1/payments/pay_1"]
    row = ManagerStore(store.db).payment("pay_1")
    assert row is not None and row.status == "paid" and (row.charged_back, row.amount_charged_back) == (1, 2000)


def test_a_charged_back_event_with_its_amount_needs_no_question(tmp_path):
    service = FakeFeed([[feed_event(1, "payment.charged_back", amount_charged_back=2000)]], amount=None)
    store = run_feed(tmp_path, service, polls=1)
    assert service.asked == ["/v1/events"] and store.attempt("pay_1") is not None
    assert ManagerStore(store.db).payment("pay_1").amount_charged_back == 2000


def test_an_amount_not_read_is_asked_again_on_reconnecting(tmp_path):
    service = FakeFeed([[feed_event(1, "payment.charged_back")]], amount=None)
    store = run_feed(tmp_path, service, polls=1)  # the payment could not be read: marked, no amount
    row = ManagerStore(store.db).payment("pay_1")
    assert row.is_charged_back and row.amount_charged_back == 0
    service.amount, service.asked = 2000, []
    store = run_feed(tmp_path, service, polls=1, online=False)  # the first poll after an outage
    assert service.asked == ["/v1/events", "/v1/payments/pay_1"]
    assert ManagerStore(store.db).payment("pay_1").amount_charged_back == 2000
