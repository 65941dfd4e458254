"""Manager mode against a real sync service and sandbox: refunds end in the history from the feed,
reconciliation finds a disagreement and Refresh resolves it."""

from __future__ import annotations

import json
import time

from pos_app.app import Kiosk
from pos_app.viewmodels import CheckoutState, RefundState
from tests.service.test_webhooks import post_webhook, sign
from tests.support.harness import Harness

from .test_kiosk_flows import LONG, check_out, click, take_order
from .test_manager import open_manager


def paid_order(qtbot, kiosk: Kiosk, harness: Harness) -> dict:
    take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)
    harness.complete(payment, "succeeded")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    click(qtbot, kiosk.window.checkout_panel.done_button)
    return payment


def select(qtbot, kiosk: Kiosk, payment_id: str) -> int:
    model, view = kiosk.history_model, kiosk.window.manager_page.history.view
    row = next(i for i, r in enumerate(model.rows) if r.payment_id == payment_id)
    view.selectRow(row)
    return row


def type_amount(qtbot, overlay, digits: str) -> None:
    click(qtbot, overlay.keys["C"])
    for digit in digits:
        click(qtbot, overlay.keys[digit])


def test_a_partial_then_a_full_refund_reach_the_history_from_the_feed(qtbot, kiosk: Kiosk, harness: Harness):
    payment = paid_order(qtbot, kiosk, harness)  # €42.00
    open_manager(qtbot, kiosk)
    page, model = kiosk.window.manager_page, kiosk.history_model
    row = select(qtbot, kiosk, payment["payment_id"])
    assert model.row_at(row).provider_reference.startswith("pi_")  # from the feed's provider_reference
    assert model.text(model.row_at(row), "dishes") == "€36.00" and model.text(model.row_at(row), "tip") == "€5.40"
    click(qtbot, page.history.refund_button)
    overlay = page.refund
    assert overlay.isVisible() and overlay.display.text() == "€42.00"  # everything left, to start with

    type_amount(qtbot, overlay, "4201")  # more than was paid: refused here, nothing sent
    click(qtbot, overlay.refund_button)
    assert "At most €42.00 can be refunded" in overlay.message.text()
    assert kiosk.refund_vm.state is RefundState.REFUSED

    type_amount(qtbot, overlay, "1000")  # €10.00
    click(qtbot, overlay.refund_button)
    qtbot.waitUntil(lambda: kiosk.refund_vm.state is RefundState.REQUESTED, timeout=LONG)
    assert "Refund requested: €10.00" in overlay.message.text()
    assert harness.payment(payment["payment_id"])["status"] in ("paid", "partially_refunded")
    qtbot.waitUntil(
        lambda: model.row_at(select(qtbot, kiosk, payment["payment_id"])).status == "partially_refunded", timeout=LONG
    )  # the feed's payment.partially_refunded, not the button
    current = model.row_at(select(qtbot, kiosk, payment["payment_id"]))
    assert current.amount_refunded == 1000 and "Partly refunded (€10.00)" in model.text(current, "state")

    click(qtbot, overlay.close_button)
    click(qtbot, page.history.refund_button)
    assert overlay.display.text() == "€32.00" and "already refunded €10.00" in overlay.info.text()
    type_amount(qtbot, overlay, "3201")
    assert "At most €32.00 can be refunded (€10.00 of €42.00 is already refunded)" in overlay.message.text()
    click(qtbot, overlay.full_button)
    click(qtbot, overlay.refund_button)
    qtbot.waitUntil(lambda: kiosk.refund_vm.state is RefundState.REQUESTED, timeout=LONG)
    qtbot.waitUntil(
        lambda: model.row_at(select(qtbot, kiosk, payment["payment_id"])).status == "refunded", timeout=LONG
    )
    assert model.row_at(select(qtbot, kiosk, payment["payment_id"])).amount_refunded == 4200
    assert not page.history.refund_button.isEnabled()  # nothing left to refund

    order_id = model.row_at(select(qtbot, kiosk, payment["payment_id"])).order_id
    click(qtbot, page.history.detail_button)
    assert page.detail.isVisible() and order_id in page.detail.heading.text()
    events = [e.event for e in kiosk.manager_vm.detail(order_id).attempts[-1].events]
    assert events[-2:] == ["payment.partially_refunded", "payment.refunded"] and "payment.succeeded" in events
    # This harness runs without a restaurant POS: the detail says so instead of a trail.
    qtbot.waitUntil(lambda: "no restaurant POS" in page.detail.pos_message.text(), timeout=LONG)
    # The service's own record: the provider events that moved the attempt, refunds included.
    qtbot.waitUntil(lambda: "charge.refunded  (applied)" in page.detail.provider_message.text(), timeout=LONG)
    assert "Attempt 1 · refunded" in page.detail.provider_message.text()


def test_reconciliation_shows_a_disagreement_and_refresh_resolves_it(
    qtbot, qasync_loop, kiosk: Kiosk, harness: Harness
):
    take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)
    stopping = qasync_loop.create_task(kiosk.feed_vm.stop())  # the kiosk stops hearing the feed
    qtbot.waitUntil(stopping.done, timeout=LONG)
    harness.complete(payment, "succeeded")
    harness.wait_status(payment["payment_id"], "paid")
    open_manager(qtbot, kiosk)
    page = kiosk.window.manager_page
    click(qtbot, page.tab_buttons[2])
    tab = page.reconcile
    click(qtbot, tab.check_button)
    qtbot.waitUntil(lambda: not kiosk.reconcile_vm.busy and bool(kiosk.reconcile_vm.rows), timeout=LONG)
    mismatch = kiosk.reconcile_vm.rows[0]
    assert (mismatch.payment_id, mismatch.kiosk_status, mismatch.service_status) == (
        payment["payment_id"],
        "open",
        "paid",
    )
    assert (
        tab.message.text() == "1 of 1 payment of the last 7 days disagrees."
        and tab.table.item(0, 5).text() == mismatch.reason
    )
    click(qtbot, tab.refresh_buttons[payment["payment_id"]])
    qtbot.waitUntil(lambda: not kiosk.reconcile_vm.busy and not kiosk.reconcile_vm.rows, timeout=LONG)
    assert tab.message.text() == "The one payment of the last 7 days agrees." and tab.table.rowCount() == 0
    assert kiosk.store.order(mismatch.order_id).is_paid  # from the feed, caught up by Refresh


def test_reconciliation_shows_a_provider_success_that_did_not_match_with_what_to_do(
    qtbot, kiosk: Kiosk, harness: Harness
):
    take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)
    session = harness.stripe_http.get(f"/v1/checkout/sessions/{harness.session_id(payment)}").json()
    underpaid = {**session, "status": "complete", "payment_status": "paid", "amount_total": 1}
    body = json.dumps(
        {
            "id": "evt_underpaid",
            "object": "event",
            "type": "checkout.session.completed",
            "livemode": False,
            "created": int(time.time()),
            "data": {"object": underpaid},
        }
    ).encode()
    assert post_webhook(harness, body, sign(body)).json()["outcome"] == "mismatch"
    assert kiosk.checkout_vm.state is not CheckoutState.PAID
    open_manager(qtbot, kiosk)
    tab = kiosk.window.manager_page.reconcile
    click(qtbot, kiosk.window.manager_page.tab_buttons[2])
    click(qtbot, tab.check_button)
    qtbot.waitUntil(lambda: not kiosk.reconcile_vm.busy and bool(kiosk.reconcile_vm.rows), timeout=LONG)
    [row] = kiosk.reconcile_vm.rows
    assert (row.payment_id, row.kiosk_status, row.service_status) == (payment["payment_id"], "open", "open")
    shown = tab.table.item(0, 5).text()
    assert shown.startswith("Check with the payment provider") and "amount 0.01 EUR, not 42.00 EUR" in shown
    assert "refund it there" in shown
    assert tab.table.rowHeight(0) >= tab.table.sizeHintForRow(0) >= 64  # all of it shows, nothing elided
