"""The split bill end to end: the real widgets, the real sync service and sandbox. The waiter taps Split
the bill; guests take shares on the bill page's API (POST {bill_url}/shares) and pay them at the
sandbox; the kiosk's progress line follows the feed, then PAID. Stop split, then Pay the rest in full
charges only what is left. Manager mode shows each share and counts each."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from pos_app.app import Kiosk
from pos_app.viewmodels import CheckoutState, RefundState
from tests.support.harness import Harness

from .test_kiosk_flows import LONG, click, take_order
from .test_manager import open_manager
from .test_manager_live import select, type_amount
from .test_small_screen import SIZES, SMALL, assert_fits, resized


def split(qtbot, kiosk: Kiosk) -> str:
    """Tap Split the bill; the QR shows the bill page. Returns its URL."""
    click(qtbot, kiosk.window.order_page.split_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.SPLIT, timeout=LONG)
    panel = kiosk.window.checkout_panel
    assert kiosk.window.root.currentWidget() is panel and panel.stack.currentWidget() is panel.split_view
    bill_url = kiosk.checkout_vm.bill_url
    assert "/bill/" in bill_url and panel.split_view.qr.data == bill_url
    return bill_url


def take_share(bill_url: str, **choice: object) -> dict:
    """What the bill page does when a guest pays their part: POST /bill/{token}/shares."""
    with httpx.Client(timeout=30) as guest:
        state = guest.get(f"{bill_url}/state").json()
        response = guest.post(
            f"{bill_url}/shares", json={"tip_amount": 0, "donation_amount": 0, "version": state["version"], **choice}
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


def progress(kiosk: Kiosk) -> str:
    """The progress line as shown (its parts are kept whole with no-break spaces)."""
    return kiosk.window.checkout_panel.split_view.progress.text().replace("\u00a0", " ")


def shot(kiosk: Kiosk, harness: Harness, name: str) -> None:
    """An offscreen screenshot, kept when TABLEPAY_SCREENSHOTS names a folder (scripts/screenshots)."""
    folder = os.environ.get("TABLEPAY_SCREENSHOTS")
    if folder and harness.provider.name == "stripe":
        kiosk.window.grab().save(str(Path(folder) / name))


@pytest.mark.parametrize("harness", ["stripe", "mollie"], indirect=True)
def test_two_guests_pay_their_shares_and_the_order_turns_paid(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = take_order(qtbot, kiosk)  # €36.00 of dishes (the tip and round-up stay off the bill)
    bill_url = split(qtbot, kiosk)
    qtbot.waitUntil(lambda: progress(kiosk) == "€0.00 of €36.00 paid", timeout=LONG)
    first = take_share(bill_url, mode="equal", shares=2, pay_shares=1, tip_amount=200)
    assert first["amount"] == 1800 and first["amount_total"] == 2000
    qtbot.waitUntil(lambda: progress(kiosk) == "€0.00 of €36.00 paid · 1 guest paying", timeout=LONG)
    harness.complete(first, "succeeded")
    qtbot.waitUntil(lambda: progress(kiosk) == "€18.00 of €36.00 paid", timeout=LONG)
    assert kiosk.checkout_vm.state is CheckoutState.SPLIT and not kiosk.store.order(order_id).is_paid
    second = take_share(bill_url, mode="remaining")
    qtbot.waitUntil(lambda: progress(kiosk) == "€18.00 of €36.00 paid · 1 guest paying", timeout=LONG)
    shot(kiosk, harness, "kiosk-split-bill.png")
    harness.complete(second, "succeeded")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    panel = kiosk.window.checkout_panel
    assert "PAID" in panel.headline.text() and panel.done_button.isVisible() and panel.result_amount.text() == "€36.00"
    assert kiosk.store.order(order_id).is_paid
    click(qtbot, panel.done_button)

    # Manager mode: each share its own line, labelled share; each counts in the day's totals.
    open_manager(qtbot, kiosk)
    model = kiosk.history_model
    qtbot.waitUntil(lambda: sum(r.order_id == order_id for r in model.rows) == 2, timeout=LONG)
    rows = [r for r in model.rows if r.order_id == order_id]
    assert {r.payment_id for r in rows} == {first["share_id"], second["share_id"]}
    assert all(model.text(r, "state") == "Paid · share" for r in rows)
    detail = kiosk.manager_vm.detail(order_id)
    assert [a.payment.share for a in detail.attempts] == [1, 1]
    assert all(kiosk.manager_vm.attempt_heading(a.payment).startswith("SHARE · ATTEMPT") for a in detail.attempts)
    totals = kiosk.manager_vm.totals(kiosk.manager_vm.today())
    assert totals.gross == 2000 + 1800 and totals.revenue == 3600 and totals.tips == 200 and totals.paid_orders == 1

    # A refund is of one share: the existing refund flow on that share's line.
    page = kiosk.window.manager_page
    select(qtbot, kiosk, first["share_id"])
    click(qtbot, page.history.refund_button)
    overlay = page.refund
    assert overlay.display.text() == "€20.00"  # that share's total, not the order's
    type_amount(qtbot, overlay, "500")
    click(qtbot, overlay.refund_button)
    qtbot.waitUntil(lambda: kiosk.refund_vm.state is RefundState.REQUESTED, timeout=LONG)
    harness.provider.settle_refunds({"payment_id": first["share_id"], "checkout_url": first["checkout_url"]})
    qtbot.waitUntil(
        lambda: model.row_at(select(qtbot, kiosk, first["share_id"])).status == "partially_refunded", timeout=LONG
    )
    assert model.row_at(select(qtbot, kiosk, second["share_id"])).amount_refunded == 0
    assert kiosk.manager_vm.totals(kiosk.manager_vm.today()).refunds == 500


def test_stop_split_then_pay_in_full_charges_only_the_rest(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = take_order(qtbot, kiosk)  # dishes €36.00, tip 15 % (€5.40) and a round-up donation
    bill_url = split(qtbot, kiosk)
    share = take_share(bill_url, mode="amount", amount=1500)
    harness.complete(share, "succeeded")
    qtbot.waitUntil(lambda: progress(kiosk) == "€15.00 of €36.00 paid", timeout=LONG)
    panel = kiosk.window.checkout_panel
    click(qtbot, panel.split_view.stop_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.STOPPED, timeout=LONG)
    assert "Split stopped" in panel.headline.text() and panel.result_amount.text() == "€21.00"
    assert panel.pay_rest_button.isVisible() and panel.back_button.isVisible()
    click(qtbot, panel.pay_rest_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.WAITING, timeout=LONG)
    attempt = kiosk.checkout_vm.attempt
    charged = harness.payment(attempt.payment_id)
    assert attempt.amount_total == charged["amount_total"] < kiosk.order_vm.totals().total.amount
    assert charged["amount_total"] - charged["tip_amount"] - charged["donation_amount"] == 2100  # only what is left
    assert panel.qr.data == attempt.checkout_url
    assert panel.wait_amount.text() == kiosk.order_vm.fmt(charged["amount_total"])
    harness.complete({"checkout_url": attempt.checkout_url}, "succeeded")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    assert kiosk.store.order(order_id).is_paid and kiosk.store.order(order_id).bill.status == "settled"
    # The service records the rest as the bill's last share: it is a share line in the history too.
    assert [(a.share, a.status.value) for a in map(kiosk.store.attempt, (share["share_id"], attempt.payment_id))] == [
        (True, "paid"),
        (True, "paid"),
    ]
    totals = kiosk.manager_vm.totals(kiosk.manager_vm.today())
    assert totals.gross == 1500 + charged["amount_total"] and totals.revenue == 3600


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_split_screen_fits(qtbot, kiosk: Kiosk, harness: Harness, size):
    resized(qtbot, kiosk.window, size)
    take_order(qtbot, kiosk)
    bill_url = split(qtbot, kiosk)
    share = take_share(bill_url, mode="equal", shares=3, pay_shares=1)
    harness.complete(share, "succeeded")
    take_share(bill_url, mode="equal", shares=3, pay_shares=1)
    qtbot.waitUntil(lambda: progress(kiosk) == "€12.00 of €36.00 paid · 1 guest paying", timeout=LONG)
    assert_fits(qtbot, kiosk.window, size, "split QR")
    if size == SMALL:
        shot(kiosk, harness, "kiosk-split-bill-1024x768.png")
    click(qtbot, kiosk.window.checkout_panel.split_view.stop_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.STOPPED, timeout=LONG)
    assert_fits(qtbot, kiosk.window, size, "split stopped")
