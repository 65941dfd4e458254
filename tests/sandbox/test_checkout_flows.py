"""Each checkout outcome emits Stripe's events with consistent objects; the hosted page works."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from typing import Any

import pytest
import stripe

from tests.support.waiting import eventually

from .conftest import Sandbox, session_params


def _complete(sandbox: Sandbox, session_id: str, outcome: str, **extra: Any) -> dict[str, Any]:
    response = sandbox.control(
        "POST", f"/_sandbox/checkout/sessions/{session_id}/complete", json={"outcome": outcome, **extra}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_card_success(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    done = _complete(sandbox, session.id, "succeeded")
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert sandbox.event_types() == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    completed = client.v1.events.list({"type": "checkout.session.completed"}).data[0]
    obj = completed.data.object
    assert obj.payment_intent == done["payment_intent"] and obj.metadata.to_dict()["order_id"] == "order-42"
    pi = client.v1.payment_intents.retrieve(done["payment_intent"])
    assert pi.status == "succeeded" and pi.latest_charge.startswith("ch_")
    assert pi.metadata.to_dict() == {"order_id": "order-42"}  # payment_intent_data[metadata]
    assert (pi.amount, pi.currency) == (2950, "eur")


def test_decline_keeps_session_open_and_reuses_the_intent(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    declined = _complete(sandbox, session.id, "failed")
    assert declined["status"] == "open" and declined["payment_status"] == "unpaid"
    pi = client.v1.payment_intents.retrieve(declined["payment_intent"])
    assert pi.status == "requires_payment_method" and pi.last_payment_error.code == "card_declined"
    _complete(sandbox, session.id, "failed")
    paid = _complete(sandbox, session.id, "succeeded")
    assert paid["payment_intent"] == pi.id
    assert sandbox.event_types() == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "charge.failed",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]


@pytest.mark.parametrize(
    "outcome, tail, paid",
    [
        (
            "delayed_succeeded",
            ["charge.succeeded", "payment_intent.succeeded", "checkout.session.async_payment_succeeded"],
            "paid",
        ),
        (
            "delayed_failed",
            ["charge.failed", "payment_intent.payment_failed", "checkout.session.async_payment_failed"],
            "unpaid",
        ),
    ],
)
def test_delayed_payment(
    client: stripe.StripeClient, sandbox: Sandbox, outcome: str, tail: list[str], paid: str
) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    processing = _complete(sandbox, session.id, outcome, settle=False)
    assert (processing["status"], processing["payment_status"]) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(processing["payment_intent"]).status == "processing"
    assert sandbox.event_types() == ["payment_intent.created", "checkout.session.completed"]
    settled = _complete(sandbox, session.id, outcome)
    assert settled["payment_status"] == paid
    assert sandbox.event_types() == ["payment_intent.created", "checkout.session.completed", *tail]


def test_expire_now_cancels_a_declined_intent(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    _complete(sandbox, session.id, "failed")
    expired = sandbox.control("POST", f"/_sandbox/checkout/sessions/{session.id}/expire_now").json()
    assert expired["status"] == "expired"
    assert sandbox.event_types()[-2:] == ["payment_intent.canceled", "checkout.session.expired"]
    late = sandbox.control("POST", f"/_sandbox/checkout/sessions/{session.id}/complete", json={"outcome": "succeeded"})
    assert late.status_code == 400 and late.json()["error"]["type"] == "invalid_request_error"


def test_hosted_page_buttons(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    page = sandbox.control("GET", f"/c/pay/{session.id}")
    assert page.status_code == 200 and 'name="viewport"' in page.text.replace("'", '"')
    for text in (
        "Risotto",
        "Espresso",
        "€29.50",
        "€25.00",
        "Pay €29.50",
        "Declined card",
        "Pay by bank (delayed)",
        "http://127.0.0.1:9/cancelled",
    ):
        assert text in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[0].replace("http-equiv", "")

    declined = sandbox.control("POST", f"/c/pay/{session.id}", data={"action": "decline"}, follow_redirects=True)
    assert "Your card was declined." in declined.text and "Pay €29.50" in declined.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

    paid = sandbox.control("POST", f"/c/pay/{session.id}", data={"action": "pay"})
    assert paid.status_code == 303
    assert paid.headers["location"] == f"http://127.0.0.1:9/done?session_id={session.id}"
    assert "payment is complete" in sandbox.control("GET", f"/c/pay/{session.id}").text


def test_hosted_page_bank_payment_settles_later(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    response = sandbox.control("POST", f"/c/pay/{session.id}", data={"action": "delayed"})
    assert response.status_code == 303
    eventually(
        lambda: client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid",
        message="the bank payment settling",
    )
    assert sandbox.event_types()[-1] == "checkout.session.async_payment_succeeded"


@pytest.mark.parametrize(
    "currency, unit, expected", [("jpy", 1500, "¥3,000"), ("kwd", 1230, "KWD 2.460"), ("usd", 2505, "$50.10")]
)
def test_hosted_page_formats_minor_units(
    client: stripe.StripeClient, sandbox: Sandbox, currency: str, unit: int, expected: str
) -> None:
    params = session_params(
        line_items=[
            {"price_data": {"currency": currency, "unit_amount": unit, "product_data": {"name": "Dish"}}, "quantity": 2}
        ]
    )
    session = client.v1.checkout.sessions.create(params)
    assert f"Pay {expected}" in sandbox.control("GET", f"/c/pay/{session.id}").text


def test_hosted_page_for_expired_session(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    client.v1.checkout.sessions.expire(session.id)
    page = sandbox.control("GET", f"/c/pay/{session.id}")
    assert "expired" in page.text and "Declined card" not in page.text
    assert sandbox.control("GET", "/c/pay/cs_test_unknown").status_code == 404


def test_minimum_charge_amount(client: stripe.StripeClient) -> None:
    tiny = session_params(
        line_items=[
            {"price_data": {"currency": "usd", "unit_amount": 20, "product_data": {"name": "Mint"}}, "quantity": 1}
        ]
    )
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(tiny)
    assert str(info.value.user_message) == "The Checkout Session's total amount due must add up to at least $0.50 usd"


def test_sessions_expire_at_expires_at(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    """Stripe expires an open session by itself at `expires_at`; move the clock by editing the row."""
    session = client.v1.checkout.sessions.create(session_params())
    with closing(sqlite3.connect(sandbox.data_dir / "sandbox.sqlite")) as db, db:
        db.execute(
            "UPDATE objects SET data = json_set(data, '$.expires_at', ?) WHERE id = ?",
            [int(time.time()) - 1, session.id],
        )
    eventually(
        lambda: client.v1.checkout.sessions.retrieve(session.id).status == "expired", message="the session expiring"
    )
    expired = client.v1.events.list({"type": "checkout.session.expired"}).data
    assert len(expired) == 1 and expired[0].request.id is None
