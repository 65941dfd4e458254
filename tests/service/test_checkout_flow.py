"""A checkout from the kiosk's request to PAID in the feed, through the real sandbox."""

from tests.support.harness import Harness, make_order


def test_line_items_carry_dishes_tip_and_donation_separately(harness: Harness):
    payment = harness.checkout(make_order(donation_amount=100)).json()
    items = harness.stripe_http.get(f"/v1/checkout/sessions/{harness.session_id(payment)}/line_items").json()
    names = [(item["description"], item["quantity"], item["amount_total"]) for item in items["data"]]
    assert names == [
        ("Pasta carbonara", 2, 2500),
        ("Sparkling water", 1, 300),
        ("Tip", 1, 280),
        ("Donation to Red Cross", 1, 100),
    ]
    session = harness.stripe_http.get(f"/v1/checkout/sessions/{harness.session_id(payment)}").json()
    assert session["client_reference_id"] == payment["order_id"]
    assert session["metadata"]["payment_id"] == payment["payment_id"]
    assert session["amount_total"] == payment["amount_total"]


def test_a_paid_order_refuses_a_new_checkout(harness: Harness):
    order = make_order()
    payment = harness.checkout(order).json()
    harness.complete(payment, "succeeded")
    harness.wait_status(payment["payment_id"], "paid")
    again = harness.checkout(order)
    assert again.status_code == 409
    assert "already paid" in again.json()["error"]["message"]


def test_an_order_never_has_two_live_attempts(harness: Harness):
    order = make_order()
    first = harness.checkout(order).json()
    again = harness.checkout(order)
    assert again.status_code == 409
    assert again.json()["error"]["payment_id"] == first["payment_id"]
    assert "in progress" in again.json()["error"]["message"]


def test_cancel_expires_the_session_and_a_late_expired_event_changes_nothing(harness: Harness):
    order = make_order()
    payment = harness.checkout(order).json()
    cancelled = harness.kiosk.post(f"/v1/payments/{payment['payment_id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    session = harness.stripe_http.get(f"/v1/checkout/sessions/{harness.session_id(payment)}").json()
    assert session["status"] == "expired"
    # Stripe sends checkout.session.expired for our own expire call; it must not relabel the attempt.
    harness.wait_status(payment["payment_id"], "cancelled")
    retry = harness.checkout(order)
    assert retry.status_code == 201 and retry.json()["attempt"] == 2


def test_cancelling_a_paid_payment_is_refused(harness: Harness):
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "succeeded")
    harness.wait_status(payment["payment_id"], "paid")
    response = harness.kiosk.post(f"/v1/payments/{payment['payment_id']}/cancel")
    assert response.status_code == 409
    assert harness.payment(payment["payment_id"])["status"] == "paid"


def test_delayed_payment_is_pending_then_paid(harness: Harness):
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "delayed_succeeded")
    harness.wait_status(payment["payment_id"], "paid")
    statuses = [e["status"] for e in harness.feed() if e["event"].startswith("payment.")]
    assert statuses in (["open", "pending", "paid"], ["open", "paid"])


def test_delayed_payment_that_fails_is_failed(harness: Harness):
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "delayed_failed")
    harness.wait_status(payment["payment_id"], "failed")


def test_refresh_reads_the_session_server_side(harness: Harness):
    harness.sandbox_mode("drop")
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "succeeded")
    assert harness.payment(payment["payment_id"])["status"] == "open"  # no webhook came
    refreshed = harness.kiosk.post(f"/v1/payments/{payment['payment_id']}/refresh")
    assert refreshed.status_code == 200
    assert refreshed.json()["status"] == "paid"
    assert [e["event"] for e in harness.feed() if e["event"].startswith("payment.")] == [
        "payment.created",
        "payment.succeeded",
    ]
