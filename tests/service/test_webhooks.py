"""Webhooks: verified, deduplicated, order-independent; forged ones change nothing."""

import hashlib
import hmac
import json
import time

import httpx
import pytest

from tests.support.harness import WEBHOOK_SECRET, Harness, make_order


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_webhook(harness: Harness, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return httpx.post(f"{harness.service.url}/webhooks/stripe", content=body, headers=headers)


def held_events(harness: Harness) -> list[str]:
    deliveries = harness.stripe_http.get("/_sandbox/deliveries").json()["data"]
    seen: list[str] = []
    for delivery in deliveries:
        if delivery["event"] not in seen:
            seen.append(delivery["event"])
    return seen


def test_duplicate_delivery_is_acknowledged_without_effect(harness: Harness):
    harness.sandbox_mode("hold")
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "succeeded")
    completed = next(
        e
        for e in held_events(harness)
        if harness.stripe_http.get(f"/v1/events/{e}").json()["type"] == "checkout.session.completed"
    )
    body = json.dumps(harness.stripe_http.get(f"/v1/events/{completed}").json()).encode()
    first = post_webhook(harness, body, sign(body))
    assert first.json()["outcome"] == "applied"
    before = harness.state()
    second = post_webhook(harness, body, sign(body))
    assert second.status_code == 200 and second.json()["outcome"] == "duplicate"
    assert harness.state() == before


def _paid_event_body(harness: Harness) -> bytes:
    harness.sandbox_mode("hold")
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "succeeded")
    return _paid_event_body_from_held(harness)


@pytest.mark.parametrize(
    "case", ["forged", "stale", "no_header", "garbage_header", "not_json", "no_object", "empty", "bad_id", "tampered"]
)
def test_forged_stale_and_malformed_webhooks_get_400_and_change_nothing(harness: Harness, case):
    body = _paid_event_body(harness)
    before = harness.state()
    if case == "forged":
        response = post_webhook(harness, body, sign(body, secret="whsec_attacker"))
    elif case == "stale":
        response = post_webhook(harness, body, sign(body, timestamp=int(time.time()) - 301))
    elif case == "no_header":
        response = post_webhook(harness, body, None)
    elif case == "garbage_header":
        response = post_webhook(harness, body, "v1=deadbeef")
    elif case == "not_json":
        response = post_webhook(harness, b"{not json", sign(b"{not json"))
    elif case == "no_object":
        broken = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {}}).encode()
        response = post_webhook(harness, broken, sign(broken))
    elif case == "empty":
        response = post_webhook(harness, b"", sign(b""))
    elif case == "bad_id":
        event = json.loads(body)
        event["id"] = 42
        broken = json.dumps(event).encode()
        response = post_webhook(harness, broken, sign(broken))
    else:  # a valid signature over another body
        response = post_webhook(harness, body.replace(b'"paid"', b'"unpaid"'), sign(body))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_webhook"
    assert harness.state() == before


def test_unknown_event_types_are_logged_and_acknowledged(harness: Harness):
    body = json.dumps(
        {
            "id": "evt_unknown_1",
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    ).encode()
    response = post_webhook(harness, body, sign(body))
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert [row[0] for row in harness.state()["integration_events"]] == ["evt_unknown_1"]


def test_a_stale_expired_event_never_undoes_paid(harness: Harness):
    harness.sandbox_mode("hold")
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "succeeded")
    for event_id in held_events(harness):
        harness.stripe_http.post(f"/_sandbox/events/{event_id}/resend")
    harness.wait_status(payment["payment_id"], "paid")
    session = harness.stripe_http.get(f"/v1/checkout/sessions/{harness.session_id(payment)}").json()
    late = {
        "id": "evt_late_expired",
        "object": "event",
        "type": "checkout.session.expired",
        "data": {"object": {**session, "status": "expired", "payment_status": "unpaid"}},
    }
    body = json.dumps(late).encode()
    response = post_webhook(harness, body, sign(body))
    assert response.status_code == 200 and response.json()["outcome"] == "unchanged"
    assert harness.payment(payment["payment_id"])["status"] == "paid"


def test_a_rotated_secret_is_accepted_alongside_the_new_one(tmp_path):
    from tests.support.harness import running_harness

    with running_harness(tmp_path, stripe_webhook_secret=f"whsec_new_secret,{WEBHOOK_SECRET}") as harness:
        payment = harness.checkout(make_order()).json()
        harness.complete(payment, "succeeded")
        harness.wait_status(payment["payment_id"], "paid")
        body = json.dumps(
            {"id": "evt_new_secret", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_2"}}}
        ).encode()
        assert post_webhook(harness, body, sign(body, secret="whsec_new_secret")).status_code == 200


def test_a_processing_failure_answers_500_and_the_retry_applies_it(harness: Harness, monkeypatch):
    harness.sandbox_mode("hold")
    payment = harness.checkout(make_order()).json()
    harness.complete(payment, "succeeded")
    body = _paid_event_body_from_held(harness)
    from sync_service.services import payment_events

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(payment_events, "decide", broken)
    failed = post_webhook(harness, body, sign(body))
    assert failed.status_code == 500
    assert harness.state()["integration_events"] == []  # rolled back: the retry is not a duplicate
    monkeypatch.undo()
    retried = post_webhook(harness, body, sign(body))
    assert retried.status_code == 200 and retried.json()["outcome"] == "applied"
    assert harness.payment(payment["payment_id"])["status"] == "paid"


def _paid_event_body_from_held(harness: Harness) -> bytes:
    for event_id in held_events(harness):
        event = harness.stripe_http.get(f"/v1/events/{event_id}").json()
        if event["type"] == "checkout.session.completed":
            return json.dumps(event).encode()
    raise AssertionError("no checkout.session.completed event")


def test_a_header_with_several_v1_signatures_is_accepted_by_either_secret(harness: Harness):
    # During a rotation Stripe signs each event with the old and the new secret: t=...,v1=new,v1=old.
    body = json.dumps(
        {"id": "evt_rotation_both", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_3"}}}
    ).encode()
    timestamp = int(time.time())
    new = sign(body, secret="whsec_the_new_one", timestamp=timestamp).split(",", 1)[1]
    old = sign(body, timestamp=timestamp)  # the harness's configured secret
    header = f"{old.split(',', 1)[0]},{new},{old.split(',', 1)[1]}"
    assert post_webhook(harness, body, header).status_code == 200
    only_unknown = f"t={timestamp},{new},{new}"
    assert post_webhook(harness, body, only_unknown).status_code == 400
