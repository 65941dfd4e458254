"""Sandbox objects carry exactly the keys of Stripe's own fixtures.

Equality, not superset: a key Stripe does not send would let production code
depend on something real Stripe never returns. The one exception is the
webhook endpoint's `secret`, which Stripe (and the sandbox) add on create only.
"""

from __future__ import annotations

from typing import Any

import stripe

from .conftest import Sandbox, session_params


def _keys(obj: Any) -> set[str]:
    return set(obj.to_dict() if hasattr(obj, "to_dict") else obj)


def test_objects_have_stripes_keys(
    sandbox: Sandbox, client: stripe.StripeClient, fixtures: dict[str, dict[str, Any]]
) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    assert _keys(session) == set(fixtures["checkout.session"])
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert items.object == "list" and items.url == f"/v1/checkout/sessions/{session.id}/line_items"
    assert _keys(items.data[0]) == set(fixtures["item"])

    sandbox.control("POST", f"/_sandbox/checkout/sessions/{session.id}/complete", json={"outcome": "succeeded"})
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert isinstance(session.payment_intent, str)
    pi = client.v1.payment_intents.retrieve(session.payment_intent)
    assert _keys(pi) == set(fixtures["payment_intent"])
    assert isinstance(pi.latest_charge, str)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert _keys(charge) == set(fixtures["charge"])
    refund = client.v1.refunds.create({"payment_intent": pi.id, "amount": 100})
    assert _keys(refund) == set(fixtures["refund"])
    transfer = client.v1.transfers.create(
        {"amount": 500, "currency": "eur", "destination": "acct_1Waiter", "source_transaction": charge.id}
    )
    assert _keys(transfer) == set(fixtures["transfer"])
    event = client.v1.events.list({"limit": 1}).data[0]
    assert _keys(event) == set(fixtures["event"])
    endpoint = client.v1.webhook_endpoints.create({"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]})
    assert _keys(endpoint) == set(fixtures["webhook_endpoint"]) | {"secret"}
    assert _keys(client.v1.webhook_endpoints.retrieve(endpoint.id)) == set(fixtures["webhook_endpoint"])


def test_open_session_is_as_stripe_creates_it(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.payment_intent is None  # created only when the guest pays
    assert session.amount_subtotal == session.amount_total == 2 * 1250 + 450
    assert session.currency == "eur"
    assert session.url == f"{sandbox.url}/c/pay/{session.id}"
    assert session.metadata.to_dict() == {"order_id": "order-42", "table": "7"}
    assert session.client_reference_id == "order-42"
    assert session.livemode is False
    assert session.expires_at - session.created == 24 * 3600
