"""A signed event moves a payment only when it is about that payment (issue 11).

Each case posts a validly signed Stripe event over HTTP to the real service, wired to the sandbox and
its R-Keeper simulator: events that carry our payment_id but are about another object, another amount,
currency, mode or account end flagged for the manager, unbooked in the POS, with no donation transfer,
and never leave a foreign object's id on the payment (so no refund can go to it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.test_webhooks import post_webhook, sign
from tests.support.harness import Harness, make_order, running_harness


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, pos=True) as running:
        yield running


def open_checkout(h: Harness) -> dict[str, Any]:
    """A 20.00 EUR order (dishes, tip and a donation) with its checkout open; the sandbox holds its webhooks."""
    h.sandbox_mode("hold")
    order = make_order(
        lines=[{"sku": "MARG", "name": "Margherita", "quantity": 2, "unit_amount": 800}],
        tip_amount=200,
        donation_amount=200,
    )
    response = h.checkout(order)
    assert response.status_code == 201, response.text
    payment = dict(response.json())
    assert (payment["amount_total"], payment["currency"]) == (2000, "EUR")
    return payment


def our_session(h: Harness, payment: dict[str, Any]) -> dict[str, Any]:
    return dict(h.stripe_http.get(f"/v1/checkout/sessions/{h.session_id(payment)}").json())


def signed_event(h: Harness, event_type: str, obj: dict[str, Any], **event: Any) -> dict[str, Any]:
    body = json.dumps(
        {
            "id": f"evt_forged_{time.monotonic_ns()}",
            "object": "event",
            "type": event_type,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": obj},
            **event,
        }
    ).encode()
    response = post_webhook(h, body, sign(body))
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_flagged_and_unbooked(h: Harness, payment: dict[str, Any], *differences: str) -> dict[str, Any]:
    now = h.payment(payment["payment_id"])
    assert now["status"] == "open", now
    attention = str(now["attention"])
    assert attention.startswith("provider_mismatch"), attention
    for difference in differences:
        assert difference in attention, (difference, attention)
    state = h.state()
    assert [row for row in state["outbox"] if row[1] in ("pos.payment", "donation.transfer")] == []
    assert state["donation_transfers"] == []
    assert "payment.succeeded" not in [e["event"] for e in h.feed()]
    assert h.pos_state(payment["order_id"])["status"] != "paid"
    return now


def pay_for_real_and_refund(h: Harness, payment: dict[str, Any], forged_intent: str | None) -> None:
    """The guest then really pays: the attempt turns Paid, and a refund goes to the session's own intent."""
    h.sandbox_mode("deliver")
    h.complete(payment, "succeeded")
    paid = h.wait_status(payment["payment_id"], "paid")
    assert str(paid["attention"]).startswith("provider_mismatch")  # the manager still has to look
    real_intent = our_session(h, payment)["payment_intent"]
    refund = h.kiosk.post(f"/v1/payments/{payment['payment_id']}/refunds", json={"amount": 500})
    assert refund.status_code == 202, refund.text
    [made] = h.stripe_http.get("/v1/refunds").json()["data"]
    assert made["payment_intent"] == real_intent != forged_intent


def test_a_completed_session_for_one_cent_is_flagged_not_paid(h: Harness) -> None:
    payment = open_checkout(h)
    session = {**our_session(h, payment), "status": "complete", "payment_status": "paid", "amount_total": 1}
    assert signed_event(h, "checkout.session.completed", session)["outcome"] == "mismatch"
    assert_flagged_and_unbooked(h, payment, "amount 0.01 EUR, not 20.00 EUR")
    pay_for_real_and_refund(h, payment, None)


def test_a_live_event_of_another_account_and_session_carrying_our_payment_id_is_flagged(h: Harness) -> None:
    payment = open_checkout(h)
    session = {
        **our_session(h, payment),
        "id": "cs_live_a1Other",
        "livemode": True,
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": "pi_live_Other",
    }
    answer = signed_event(h, "checkout.session.completed", session, livemode=True, account="acct_1Other")
    assert answer["outcome"] == "mismatch"
    flagged = assert_flagged_and_unbooked(h, payment, "cs_live_a1Other", "live mode", "acct_1Other")
    assert flagged["attention"].count("provider_mismatch") == 1
    pay_for_real_and_refund(h, payment, "pi_live_Other")


def test_a_foreign_intent_of_fifty_cents_in_dollars_is_flagged_and_never_stored(h: Harness) -> None:
    payment = open_checkout(h)
    intent = {
        "id": "pi_3Foreign",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 50,
        "currency": "usd",
        "livemode": False,
        "latest_charge": "ch_3Foreign",
        "metadata": {"payment_id": payment["payment_id"], "order_id": payment["order_id"]},
    }
    assert signed_event(h, "payment_intent.succeeded", intent)["outcome"] == "mismatch"
    assert_flagged_and_unbooked(h, payment, "pi_3Foreign", "currency USD, not EUR", "amount 0.50 USD, not 20.00 EUR")
    with h.db() as conn:
        stored = conn.execute("SELECT provider_payment_intent, provider_charge FROM payments").fetchall()
    assert stored == [(None, None)]
    pay_for_real_and_refund(h, payment, "pi_3Foreign")


def test_a_foreign_intent_with_our_exact_amount_is_checked_against_our_session(h: Harness) -> None:
    payment = open_checkout(h)
    intent = {
        "id": "pi_3SameAmount",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 2000,
        "currency": "eur",
        "livemode": False,
        "metadata": {"payment_id": payment["payment_id"]},
    }
    # Nothing differs but the id, and our session has no intent yet: the service retrieves our session.
    assert signed_event(h, "payment_intent.succeeded", intent)["outcome"] == "mismatch"
    assert_flagged_and_unbooked(h, payment, "pi_3SameAmount is not the one this attempt's checkout reports")
    pay_for_real_and_refund(h, payment, "pi_3SameAmount")


def test_a_refunded_amount_beyond_any_amount_is_refused_as_malformed_and_kept(h: Harness) -> None:
    payment = open_checkout(h)
    h.sandbox_mode("deliver")
    h.complete(payment, "succeeded")
    paid = h.wait_status(payment["payment_id"], "paid")
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 2000,
        "amount_refunded": 2**70,
        "currency": "eur",
        "livemode": False,
        "payment_intent": our_session(h, payment)["payment_intent"],
        "metadata": {},
    }
    body = json.dumps(
        {
            "id": "evt_huge_refund",
            "object": "event",
            "type": "charge.refunded",
            "livemode": False,
            "created": int(time.time()),
            "data": {"object": charge},
        }
    ).encode()
    response = post_webhook(h, body, sign(body))
    assert response.status_code == 400, response.text
    assert "amount_refunded" in response.json()["error"]["message"]
    assert h.payment(payment["payment_id"]) == paid
    with h.db() as conn:
        kept = conn.execute("SELECT verdict, body FROM webhook_requests WHERE verdict = 'malformed'").fetchall()
    # Signed by Stripe, so kept whole for inspection (not cut like a forgery), answered 400.
    assert [(verdict, json.loads(body)["id"]) for verdict, body in kept] == [("malformed", "evt_huge_refund")]
