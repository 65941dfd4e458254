"""Chargebacks in manager mode: the guest's bank took money back after the payment was Paid.

Live: a payment paid through the real kiosk, the sync service on Mollie and the sandbox's Mollie fake, then a
real chargeback opened at the fake: the history, the reconciliation tab and the day's totals, on the real
widgets. Headless: `compare`'s exact words.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

import pytest

from pos_app.app import Kiosk
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


@pytest.mark.parametrize("harness", ["mollie"], indirect=True)
def test_a_chargeback_shows_in_the_history_the_reconciliation_and_the_day(qtbot, kiosk: Kiosk, harness: Harness):
    payment = paid_order(qtbot, kiosk, harness)  # €42.00, on Mollie's hosted checkout (the sandbox's fake)
    # The guest's bank takes €20.00 back: Mollie opens a chargeback and calls the payment's webhook.
    chargeback = harness.provider.http.post(
        f"/_sandbox/mollie/payments/{harness.session_id(payment)}/chargebacks",
        json={"amount": {"currency": "EUR", "value": "20.00"}},
    )
    assert chargeback.status_code == 201, chargeback.text
    open_manager(qtbot, kiosk)
    model, page = kiosk.history_model, kiosk.window.manager_page
    # The feed's payment.charged_back marks it; the amount is read from GET /v1/payments/{id}.
    qtbot.waitUntil(
        lambda: (
            model.text(model.row_at(select(qtbot, kiosk, payment["payment_id"])), "state")
            == "Paid · charged back €20.00"
        ),
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
    assert mismatch.payment_id == payment["payment_id"] and tab.table.item(0, 5).text() == SAID

    click(qtbot, page.tab_buttons[1])
    totals = page.totals
    totals.show_day(kiosk.manager_vm.today())
    assert totals.values["refunds"].text() == "€0.00"
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
