"""Signed webhook delivery, retries, hold/drop/release/resend, and state across restarts."""

from __future__ import annotations

import stripe

from tests.support.waiting import eventually

from .conftest import Receiver, Sandbox, SandboxFactory, session_params

SECRET = "whsec_tablepay_test_secret"


def _pay(sandbox: Sandbox, client: stripe.StripeClient, outcome: str = "succeeded") -> str:
    session = client.v1.checkout.sessions.create(session_params())
    response = sandbox.control("POST", f"/_sandbox/checkout/sessions/{session.id}/complete", json={"outcome": outcome})
    assert response.status_code == 200
    return session.id


def test_events_arrive_signed_as_stripe_signs_them(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    sandbox = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    _pay(sandbox, sandbox.client())
    receiver.wait_for(lambda events: len(events) == 4)
    for body, header in receiver.received:
        event = stripe.Webhook.construct_event(body.decode("utf-8"), header, SECRET)
        assert event.object == "event" and event.livemode is False
    assert [e["type"] for e in receiver.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    rows = sandbox.control("GET", "/_sandbox/deliveries").json()["data"]
    assert {r["status"] for r in rows} == {"succeeded"} and {r["last_response_code"] for r in rows} == {200}
    events = sandbox.client().v1.events.list().data
    eventually(lambda: all(e.pending_webhooks == 0 for e in sandbox.client().v1.events.list().data))
    assert len(events) == 4


def test_wrong_secret_fails_verification(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    sandbox = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    sandbox.client().v1.payment_intents.create({"amount": 100, "currency": "eur"})
    body, header = receiver.wait_for(lambda events: len(events) == 1) and receiver.received[0]
    try:
        stripe.Webhook.construct_event(body.decode("utf-8"), header, "whsec_wrong")
    except stripe.SignatureVerificationError:
        pass
    else:
        raise AssertionError("a wrong secret must not verify")


def test_retries_after_server_error(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    receiver.responses.extend([500, 503])
    sandbox = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    sandbox.client().v1.payment_intents.create({"amount": 100, "currency": "eur"})
    events = receiver.wait_for(lambda events: len(events) == 3)
    assert len({e["id"] for e in events}) == 1  # the same event three times
    eventually(lambda: sandbox.control("GET", "/_sandbox/deliveries").json()["data"][0]["status"] == "succeeded")
    row = sandbox.control("GET", "/_sandbox/deliveries").json()["data"][0]
    assert (row["attempts"], row["last_response_code"]) == (3, 200)


def test_gives_up_after_max_attempts_without_blocking_others(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    receiver.status_for = lambda event: 500 if event["data"]["object"]["amount"] == 100 else 200
    sandbox = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    client = sandbox.client()
    client.v1.payment_intents.create({"amount": 100, "currency": "eur"})
    receiver.wait_for(lambda events: len(events) >= 1)
    client.v1.payment_intents.create({"amount": 200, "currency": "eur"})
    eventually(
        lambda: (
            [r["status"] for r in sandbox.control("GET", "/_sandbox/deliveries").json()["data"]]
            == ["failed", "succeeded"]
        )
    )
    rows = sandbox.control("GET", "/_sandbox/deliveries").json()["data"]
    assert rows[0]["attempts"] == 4 and rows[0]["last_response_code"] == 500  # FAST allows 4 attempts
    assert rows[1]["attempts"] == 1


def test_hold_release_drop_and_resend(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    sandbox = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    client = sandbox.client()
    assert sandbox.control("POST", "/_sandbox/delivery", json={"mode": "hold"}).json() == {"mode": "hold"}
    _pay(sandbox, client)
    rows = sandbox.control("GET", "/_sandbox/deliveries").json()["data"]
    assert [r["status"] for r in rows] == ["held"] * 4 and receiver.received == []
    assert client.v1.events.list({"limit": 1}).data[0].pending_webhooks == 1
    assert sandbox.control("POST", "/_sandbox/deliveries/release").json() == {"released": 4}
    receiver.wait_for(lambda events: len(events) == 4)

    sandbox.control("POST", "/_sandbox/delivery", json={"mode": "drop"})
    _pay(sandbox, client)
    assert sandbox.control("GET", "/_sandbox/deliveries", params={"status": "dropped"}).json()["data"]
    dropped = client.v1.events.list({"type": "checkout.session.completed", "limit": 1}).data[0]
    assert len(receiver.received) == 4  # the missed webhook really was missed

    # resend: deliver the missed one twice, out of order, with a fresh signature each time
    for _ in range(2):
        result = sandbox.control("POST", f"/_sandbox/events/{dropped.id}/resend").json()
        assert result["status_code"] == 200
    first_event = client.v1.events.list({"limit": 100}).data[-1]
    assert sandbox.control("POST", f"/_sandbox/events/{first_event.id}/resend").json()["status_code"] == 200
    ids = [e["id"] for e in receiver.events()[-3:]]
    assert ids == [dropped.id, dropped.id, first_event.id]
    for body, header in receiver.received[-3:]:
        stripe.Webhook.construct_event(body.decode("utf-8"), header, SECRET)


def test_state_and_pending_deliveries_survive_a_restart(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    first = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    client = first.client()
    first.control("POST", "/_sandbox/delivery", json={"mode": "hold"})
    session_id = _pay(first, client)
    first.server.stop()

    second = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    client = second.client()
    assert client.v1.checkout.sessions.retrieve(session_id).payment_status == "paid"
    assert len(client.v1.events.list().data) == 4
    assert len(client.v1.webhook_endpoints.list().data) == 1  # same url + secret: not registered twice
    assert second.control("GET", "/_sandbox/delivery").json() == {"mode": "hold"}
    second.control("POST", "/_sandbox/delivery", json={"mode": "deliver"})
    second.control("POST", "/_sandbox/deliveries/release")
    receiver.wait_for(lambda events: len(events) == 4)


def test_pending_retry_resumes_after_restart(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    receiver.responses.append(500)
    first = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    first.client().v1.payment_intents.create({"amount": 100, "currency": "eur"})
    receiver.wait_for(lambda events: len(events) == 1)
    first.server.stop()
    second = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    receiver.wait_for(lambda events: len(events) == 2)
    eventually(lambda: second.control("GET", "/_sandbox/deliveries").json()["data"][0]["status"] == "succeeded")


def test_generated_secret_is_kept_across_restarts(start_sandbox: SandboxFactory, receiver: Receiver) -> None:
    first = start_sandbox(webhook_url=receiver.url)
    assert first.webhook_secret and first.webhook_secret.startswith("whsec_")
    first.server.stop()
    second = start_sandbox(webhook_url=receiver.url)
    assert second.webhook_secret == first.webhook_secret


def test_endpoint_filters_event_types(sandbox: Sandbox, receiver: Receiver) -> None:
    client = sandbox.client()
    endpoint = client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["checkout.session.completed"]}
    )
    _pay(sandbox, client)
    events = receiver.wait_for(lambda events: len(events) == 1)
    assert events[0]["type"] == "checkout.session.completed"
    stripe.Webhook.construct_event(receiver.received[0][0].decode(), receiver.received[0][1], endpoint.secret)
