"""A checkout from the kiosk's request to PAID in the feed, through the real sandbox."""

import httpx

from tests.support.harness import Harness, make_order


def test_a_checkout_is_paid_end_to_end(harness: Harness):
    response = harness.checkout(make_order(order_id="ord-e2e"))
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == "open"
    assert payment["attempt"] == 1
    assert payment["amount_total"] == 2 * 1250 + 300 + 280
    assert payment["checkout_url"].startswith(harness.sandbox.url)
    assert payment["expires_at"] > 0

    # The guest's page is the sandbox's hosted checkout, with a separate tip line.
    page = httpx.get(payment["checkout_url"])
    assert page.status_code == 200
    assert "Pasta carbonara" in page.text and "Tip" in page.text

    harness.complete(payment, "succeeded")
    paid = harness.wait_status(payment["payment_id"], "paid")
    assert paid["paid_at"]

    events = harness.feed()
    assert [e["event"] for e in events] == ["payment.created", "payment.succeeded"]
    succeeded = events[-1]
    assert succeeded["order_id"] == "ord-e2e"
    assert succeeded["amount_total"] == payment["amount_total"]
    assert succeeded["tip_amount"] == 280

    success_page = httpx.get(f"{harness.service.url}/pay/success", params={"session_id": harness.session_id(payment)})
    assert "Thank you" in success_page.text and "€30.80" in success_page.text

    # The amount as the kiosk shows it, in the guest's language (written out here, as people write it).
    for accept_language, shown in [
        ("de-AT,de;q=0.9,en;q=0.5", "30,80\xa0€"),
        ("fr-FR", "30,80\xa0€"),
        ("nl", "€\xa030,80"),
        ("en-US", "€30.80"),
        ("pt-BR", "€30.80"),
    ]:
        page = httpx.get(
            f"{harness.service.url}/pay/success",
            params={"session_id": harness.session_id(payment)},
            headers={"Accept-Language": accept_language},
        )
        assert shown in page.text, (accept_language, page.text)


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


def test_declined_then_retried_is_paid_as_attempt_two(harness: Harness):
    order = make_order()
    first = harness.checkout(order).json()
    harness.complete(first, "failed")
    failed = harness.wait_status(first["payment_id"], "failed")
    assert failed["failure_reason"]

    second = harness.checkout(order)
    assert second.status_code == 201, second.text
    second_payment = second.json()
    assert second_payment["attempt"] == 2
    assert second_payment["payment_id"] != first["payment_id"]
    harness.complete(second_payment, "succeeded")
    harness.wait_status(second_payment["payment_id"], "paid")
    assert harness.payment(first["payment_id"])["status"] == "failed"


def test_expired_then_retried_is_paid_as_attempt_two(harness: Harness):
    order = make_order()
    first = harness.checkout(order).json()
    expired = harness.stripe_http.post(f"/_sandbox/checkout/sessions/{harness.session_id(first)}/expire_now")
    assert expired.status_code == 200, expired.text
    harness.wait_status(first["payment_id"], "expired")

    second = harness.checkout(order).json()
    assert second["attempt"] == 2
    harness.complete(second, "succeeded")
    harness.wait_status(second["payment_id"], "paid")
    statuses = [e["status"] for e in harness.feed()]
    assert statuses == ["open", "expired", "open", "paid"]


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
    statuses = [e["status"] for e in harness.feed()]
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
    assert [e["event"] for e in harness.feed()] == ["payment.created", "payment.succeeded"]
