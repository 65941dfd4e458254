"""Mollie's classic webhooks from the fake: the exact body, when they are called, the retry
schedule (200 only, no redirects followed), hold/drop/release, and resuming after a restart."""

from __future__ import annotations

from tablepay_sandbox.mollie import MollieOptions
from tests.support.waiting import eventually

from .conftest import Hooks, SandboxFactory
from .mollie_support import amount, create, deliveries, mollie_api, paid, set_status

FAST = MollieOptions(retry_time_factor=1e-5)  # 1 min -> 0.6 ms; the whole 26 h schedule -> about 1 s


def test_a_status_change_posts_only_the_id(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    sandbox = start_sandbox(mollie_options=FAST)
    payment_id = create(sandbox, webhookUrl=hooks.url)["id"]
    assert deliveries(sandbox) == []  # open: no webhook
    set_status(sandbox, payment_id, "paid")
    assert hooks.wait_for(1) == [f"id={payment_id}".encode()]
    assert hooks.received[0][2] == "application/x-www-form-urlencoded"
    eventually(lambda: deliveries(sandbox)[0]["status"] == "succeeded")
    row = deliveries(sandbox)[0]
    assert (row["payment"], row["trigger"], row["attempts"], row["last_response_code"]) == (
        payment_id,
        "payment.paid",
        1,
        200,
    )


def test_each_final_status_and_authorized_call_it(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    sandbox = start_sandbox(mollie_options=FAST)
    for status in ("failed", "canceled", "expired", "authorized"):
        set_status(sandbox, create(sandbox, webhookUrl=hooks.url, method="creditcard")["id"], status)
    hooks.wait_for(4)
    assert [r["trigger"] for r in deliveries(sandbox)] == [
        "payment.failed", "payment.canceled", "payment.expired", "payment.authorized",
    ]  # fmt: skip
    failed = mollie_api(sandbox, "GET", f"/v2/payments/{deliveries(sandbox)[0]['payment']}").json()
    assert failed["failedAt"] and failed["details"]["failureReason"] == "card_declined"


def test_refunds_and_chargebacks_call_the_payments_webhook(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    sandbox = start_sandbox(mollie_options=FAST)
    payment_id = paid(sandbox, webhookUrl=hooks.url)["id"]
    refund = mollie_api(sandbox, "POST", f"/v2/payments/{payment_id}/refunds", json={"amount": amount(100)}).json()
    canceled = mollie_api(sandbox, "POST", f"/v2/payments/{payment_id}/refunds", json={"amount": amount(200)}).json()
    mollie_api(sandbox, "DELETE", f"/v2/payments/{payment_id}/refunds/{canceled['id']}")
    assert [r["trigger"] for r in deliveries(sandbox)] == ["payment.paid"]  # pending and canceled call nothing
    for status in ("processing", "refunded"):
        sandbox.control("POST", f"/_sandbox/mollie/refunds/{refund['id']}/status", json={"status": status})
    sandbox.control("POST", f"/_sandbox/mollie/payments/{payment_id}/chargebacks")
    assert hooks.wait_for(4) == [f"id={payment_id}".encode()] * 4
    assert [r["trigger"] for r in deliveries(sandbox)] == [
        "payment.paid",
        "refund.processing",
        "refund.refunded",
        "chargeback",
    ]


def test_only_an_exact_200_counts_and_redirects_are_not_followed(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    hooks.responses.extend([500, 201, 302, 204])
    sandbox = start_sandbox(mollie_options=FAST)
    paid(sandbox, webhookUrl=hooks.url)
    hooks.wait_for(5)
    eventually(lambda: deliveries(sandbox)[0]["status"] == "succeeded")
    row = deliveries(sandbox)[0]
    assert (row["attempts"], row["last_response_code"]) == (5, 200)
    assert hooks.calls("/webhooks/elsewhere") == []


def test_ten_calls_then_it_gives_up(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    hooks.responses.extend([503] * 12)
    sandbox = start_sandbox(mollie_options=FAST)
    paid(sandbox, webhookUrl=hooks.url)
    eventually(lambda: deliveries(sandbox)[0]["status"] == "failed", timeout=15)
    assert deliveries(sandbox)[0]["attempts"] == 10 and len(hooks.calls()) == 10


def test_a_slow_receiver_fails_the_call(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    hooks.delay = 1.0  # answers 200, but too late
    sandbox = start_sandbox(mollie_options=MollieOptions(retry_time_factor=1, webhook_timeout=0.2))
    paid(sandbox, webhookUrl=hooks.url)
    row = eventually(lambda: (rows := deliveries(sandbox)) and rows[0]["attempts"] == 1 and rows[0])
    assert row["status"] == "pending" and row["last_response_code"] is None and "Timeout" in row["last_error"]


def test_hold_release_drop_and_call_now(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    sandbox = start_sandbox(mollie_options=FAST)
    assert sandbox.control("POST", "/_sandbox/mollie/delivery", json={"mode": "hold"}).json() == {"mode": "hold"}
    held_id = paid(sandbox, webhookUrl=hooks.url)["id"]
    assert [r["status"] for r in deliveries(sandbox)] == ["held"] and hooks.calls() == []
    assert sandbox.control("POST", "/_sandbox/mollie/deliveries/release").json() == {"released": 1}
    hooks.wait_for(1)
    sandbox.control("POST", "/_sandbox/mollie/delivery", json={"mode": "drop"})
    dropped_id = paid(sandbox, webhookUrl=hooks.url)["id"]
    assert deliveries(sandbox, status="dropped")[0]["payment"] == dropped_id
    now = sandbox.control("POST", f"/_sandbox/mollie/payments/{dropped_id}/webhook").json()
    assert now["status_code"] == 200 and hooks.calls()[-1] == f"id={dropped_id}".encode()
    assert held_id != dropped_id and len(deliveries(sandbox, status="pending")) == 0


def test_calls_and_state_survive_a_restart(start_sandbox: SandboxFactory, hooks: Hooks) -> None:
    hooks.responses.append(500)
    slow = MollieOptions(retry_time_factor=0.01)  # the retry comes 0.6 s later, after the restart
    first = start_sandbox(mollie_options=slow)
    payment_id = paid(first, webhookUrl=hooks.url)["id"]
    refund_id = mollie_api(first, "POST", f"/v2/payments/{payment_id}/refunds", json={"amount": amount(100)}).json()[
        "id"
    ]
    hooks.wait_for(1)
    first.server.stop()

    second = start_sandbox(mollie_options=slow)
    hooks.wait_for(2)
    eventually(lambda: deliveries(second)[0]["status"] == "succeeded")
    payment = mollie_api(second, "GET", f"/v2/payments/{payment_id}", params={"embed": "refunds"}).json()
    assert payment["status"] == "paid" and payment["_embedded"]["refunds"][0]["id"] == refund_id
