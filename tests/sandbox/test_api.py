"""The REST surface through the official SDK: errors, idempotency, lists, refunds, transfers."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

import pytest
import stripe
from stripe._api_version import _ApiVersion
from stripe._encode import _api_encode  # the SDK's own encoder, so our raw request matches its requests

from tablepay_sandbox import forms

from .conftest import API_KEY, FIXTURES, Sandbox, session_params


def test_form_decoding_matches_stripes_nesting() -> None:
    body = (
        "line_items[0][price_data][product_data][name]=Pasta&line_items[0][quantity]=2"
        "&line_items[1][quantity]=1&metadata[order_id]=o1&expand[0]=payment_intent&expand[]=line_items"
        "&expand[]=x"
    )
    assert forms.decode(body) == {
        "line_items": [{"price_data": {"product_data": {"name": "Pasta"}}, "quantity": "2"}, {"quantity": "1"}],
        "metadata": {"order_id": "o1"},
        "expand": ["payment_intent", "line_items", "x"],
    }


def test_invalid_api_key_is_401(sandbox: Sandbox) -> None:
    with pytest.raises(stripe.AuthenticationError) as info:
        sandbox.client("sk_live_abcdefghijklmnopabcd").v1.checkout.sessions.list()
    assert info.value.http_status == 401
    assert "Invalid API Key provided: sk_live_****abcd" in str(info.value.user_message)
    missing = sandbox.control("GET", "/v1/events")
    assert missing.status_code == 401 and "You did not provide an API key" in missing.json()["error"]["message"]


def test_idempotent_replay_and_mismatch(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    key = str(uuid.uuid4())
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": key})
    again = sandbox.api(
        "POST",
        "/v1/checkout/sessions",
        content=_encoded(session_params()),
        headers={"Idempotency-Key": key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.text == first.last_response.body  # byte for byte, as Stripe replays
    replayed = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": key})
    assert replayed.id == first.id
    assert len(client.v1.checkout.sessions.list().data) == 1
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.checkout.sessions.create(session_params(client_reference_id="other"), {"idempotency_key": key})
    assert info.value.http_status == 400
    assert "same parameters" in str(info.value.user_message)
    # keys are per API key: another key may reuse it freely
    other = sandbox.client("sk_test_someone_else").v1.checkout.sessions.create(
        session_params(client_reference_id="other"), {"idempotency_key": key}
    )
    assert other.id != first.id


def _encoded(params: dict[str, object]) -> bytes:
    return urlencode(list(_api_encode(params))).encode()


@pytest.mark.parametrize("offset, fragment", [(10 * 60, "at least 30 minutes"), (25 * 3600, "less than 24 hours")])
def test_expires_at_window(client: stripe.StripeClient, offset: int, fragment: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + offset))
    assert info.value.http_status == 400 and info.value.param == "expires_at"
    assert fragment in str(info.value.user_message)


def test_validation_errors_are_stripe_shaped(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    mixed = session_params()
    mixed["line_items"][1]["price_data"]["currency"] = "usd"
    with pytest.raises(stripe.InvalidRequestError, match="same currency"):
        client.v1.checkout.sessions.create(mixed)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(session_params(colour="blue"))
    assert str(info.value.user_message) == "Received unknown parameter: colour"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    unknown = sandbox.api("GET", "/v1/nothing_here")
    assert unknown.status_code == 404 and "Unrecognized request URL" in unknown.json()["error"]["message"]


def test_expire_only_open_sessions(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired" and expired.url is None
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.expire(session.id)
    assert info.value.http_status == 400 and 'status of "expired"' in str(info.value.user_message)
    assert sandbox.event_types() == ["checkout.session.expired"]


def test_list_pagination_and_filters(client: stripe.StripeClient) -> None:
    ids = [client.v1.checkout.sessions.create(session_params(client_reference_id=f"o{i}")).id for i in range(5)]
    first = client.v1.checkout.sessions.list({"limit": 2})
    assert [s.id for s in first.data] == ids[::-1][:2] and first.has_more
    assert first.url == "/v1/checkout/sessions"
    second = client.v1.checkout.sessions.list({"limit": 2, "starting_after": first.data[-1].id})
    assert [s.id for s in second.data] == ids[::-1][2:4] and second.has_more
    back = client.v1.checkout.sessions.list({"limit": 2, "ending_before": second.data[0].id})
    assert [s.id for s in back.data] == ids[::-1][:2]
    everything = [s.id for s in client.v1.checkout.sessions.list({"limit": 2}).auto_paging_iter()]
    assert everything == ids[::-1]
    client.v1.checkout.sessions.expire(ids[0])
    assert [s.id for s in client.v1.checkout.sessions.list({"status": "expired"}).data] == [ids[0]]


def test_expand_payment_intent_and_line_items(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    sandbox.control("POST", f"/_sandbox/checkout/sessions/{session.id}/complete", json={"outcome": "succeeded"})
    full = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent.latest_charge", "line_items"]})
    assert full.payment_intent.object == "payment_intent"
    assert full.payment_intent.metadata.to_dict() == {"order_id": "order-42"}
    assert full.payment_intent.latest_charge.status == "succeeded"
    assert [item.description for item in full.line_items.data] == ["Risotto", "Espresso"]
    listed = client.v1.checkout.sessions.list({"payment_intent": full.payment_intent.id})
    assert [s.id for s in listed.data] == [session.id]


def test_payment_intent_confirm_success_and_decline(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    pi = client.v1.payment_intents.create({"amount": 2000, "currency": "usd", "metadata": {"k": "v"}})
    assert pi.status == "requires_payment_method"
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_chargeDeclined"})
    assert info.value.http_status == 402 and info.value.code == "card_declined"
    assert str(info.value.user_message) == "Your card was declined."
    failed = client.v1.payment_intents.retrieve(pi.id)
    assert failed.status == "requires_payment_method" and failed.last_payment_error.code == "card_declined"
    paid = client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})
    assert paid.status == "succeeded" and paid.amount_received == 2000
    charges = client.v1.charges.list({"payment_intent": pi.id}).data
    assert [c.status for c in charges] == ["succeeded", "failed"]
    assert sandbox.event_types() == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def _paid_charge(client: stripe.StripeClient, sandbox: Sandbox) -> stripe.Charge:
    session = client.v1.checkout.sessions.create(session_params())
    sandbox.control("POST", f"/_sandbox/checkout/sessions/{session.id}/complete", json={"outcome": "succeeded"})
    pi = client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    return client.v1.charges.retrieve(pi.latest_charge)


def test_refunds_up_to_the_remainder(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    charge = _paid_charge(client, sandbox)
    part = client.v1.refunds.create({"charge": charge.id, "amount": 950, "metadata": {"reason": "cold soup"}})
    assert (part.amount, part.status, part.payment_intent) == (950, "succeeded", charge.payment_intent)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create({"payment_intent": charge.payment_intent, "amount": 2001})
    assert str(info.value.user_message) == "Refund amount (€20.01) is greater than unrefunded amount on charge (€20.00)"
    rest = client.v1.refunds.create({"payment_intent": charge.payment_intent})
    assert rest.amount == 2000
    after = client.v1.charges.retrieve(charge.id)
    assert (after.amount_refunded, after.refunded) == (2950, True)
    assert [r.id for r in client.v1.refunds.list({"charge": charge.id}).data] == [rest.id, part.id]
    assert client.v1.refunds.retrieve(part.id).metadata.to_dict() == {"reason": "cold soup"}
    types = sandbox.event_types()
    assert types.count("refund.created") == 2 and types.count("charge.refunded") == 2


def test_transfer_with_source_transaction(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    charge = _paid_charge(client, sandbox)
    transfer = client.v1.transfers.create(
        {
            "amount": 300,
            "currency": "eur",
            "destination": "acct_1Waiter",
            "source_transaction": charge.id,
            "transfer_group": "order-42",
            "metadata": {"kind": "tip"},
        }
    )
    assert (transfer.source_transaction, transfer.destination, transfer.transfer_group) == (
        charge.id,
        "acct_1Waiter",
        "order-42",
    )
    assert client.v1.transfers.retrieve(transfer.id).metadata.to_dict() == {"kind": "tip"}
    assert [t.id for t in client.v1.transfers.list().data] == [transfer.id]
    assert sandbox.event_types(type="transfer.*") == ["transfer.created"]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.transfers.create(
            {"amount": 300, "currency": "eur", "destination": "acct_1Waiter", "source_transaction": "ch_missing"}
        )
    assert info.value.param == "source_transaction"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.create({"amount": 300, "currency": "eur"})
    assert missing.value.param == "destination"


def test_transfer_reversals_take_back_at_most_the_transfer(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    charge = _paid_charge(client, sandbox)
    transfer = client.v1.transfers.create(
        {"amount": 300, "currency": "eur", "destination": "acct_1Partner", "source_transaction": charge.id}
    )
    first = client.v1.transfers.reversals.create(
        transfer.id, {"amount": 100, "metadata": {"why": "refund"}}, {"idempotency_key": "rev-1"}
    )
    again = client.v1.transfers.reversals.create(
        transfer.id, {"amount": 100, "metadata": {"why": "refund"}}, {"idempotency_key": "rev-1"}
    )
    assert (first.object, first.amount, first.transfer, again.id) == ("transfer_reversal", 100, transfer.id, first.id)
    assert set(first.to_dict()) == set(json.loads(FIXTURES.read_text())["resources"]["transfer_reversal"])
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.transfers.reversals.create(transfer.id, {"amount": 201})
    assert too_much.value.param == "amount"
    rest = client.v1.transfers.reversals.create(transfer.id)
    seen = client.v1.transfers.retrieve(transfer.id)
    assert (rest.amount, seen.amount_reversed, seen.reversed) == (200, 300, True)
    assert sandbox.event_types(type="transfer.*") == ["transfer.created", "transfer.reversed", "transfer.reversed"]


def test_events_filters(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    _paid_charge(client, sandbox)
    assert [e.type for e in client.v1.events.list({"type": "charge.succeeded"}).data] == ["charge.succeeded"]
    both = client.v1.events.list({"types": ["charge.succeeded", "payment_intent.succeeded"]}).data
    assert sorted(e.type for e in both) == ["charge.succeeded", "payment_intent.succeeded"]
    newest = client.v1.events.list({"limit": 1}).data[0]
    assert newest.type == "checkout.session.completed"
    assert client.v1.events.retrieve(newest.id).id == newest.id
    assert client.v1.events.list({"created": {"gt": newest.created}}).data == []
    assert len(client.v1.events.list({"created": {"gte": newest.created - 5}}).data) == 4
    assert newest.request.idempotency_key is None  # caused by the guest, not an API request


def test_request_block_names_the_api_request(client: stripe.StripeClient) -> None:
    client.v1.payment_intents.create({"amount": 100, "currency": "eur"}, {"idempotency_key": "pi-create-1"})
    event = client.v1.events.list({"limit": 1}).data[0]
    assert event.request.idempotency_key == "pi-create-1" and event.request.id.startswith("req_")
    # the SDK pins its API version in the Stripe-Version header; events record it, as Stripe does
    assert event.api_version == _ApiVersion.CURRENT
    assert client.v1.events.list({"limit": 1}).last_response.headers["stripe-version"] == _ApiVersion.CURRENT


def test_webhook_endpoints_crud(client: stripe.StripeClient) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "http://127.0.0.1:9/hook", "enabled_events": ["checkout.session.completed"]}
    )
    assert endpoint.secret.startswith("whsec_") and endpoint.status == "enabled"
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [endpoint.id]
    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.retrieve(endpoint.id)


@pytest.mark.asyncio
async def test_async_client_round_trip(sandbox: Sandbox) -> None:
    http = stripe.HTTPXClient(timeout=10)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url}, max_network_retries=0, http_client=http)
    try:
        session = await client.v1.checkout.sessions.create_async(session_params(), {"idempotency_key": "async-1"})
        again = await client.v1.checkout.sessions.retrieve_async(session.id, {"expand": ["line_items"]})
        assert again.line_items.data[0].quantity == 2
    finally:
        await http.close_async()
