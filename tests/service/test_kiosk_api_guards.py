"""Bad input gets a clear error and changes nothing."""

from pathlib import Path

import httpx
import pytest

from sync_service.api.auth import token_hash
from tests.support.harness import Harness, make_order, running_harness


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer tpk_wrong"}, {"Authorization": "Basic abc"}])
def test_kiosk_endpoints_need_a_valid_token(harness: Harness, headers):
    with httpx.Client(base_url=harness.service.url, headers=headers) as client:
        calls = [
            client.post("/v1/checkouts", json=make_order()),
            client.get("/v1/payments/pay_x"),
            client.post("/v1/payments/pay_x/refresh"),
            client.post("/v1/payments/pay_x/cancel"),
            client.get("/v1/events"),
            client.get("/v1/kiosk"),
        ]
    for response in calls:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert "kiosk token" in response.json()["error"]["message"]
    assert harness.state()["payments"] == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lines": []}, "no dishes"),
        ({"lines": [{"sku": "A", "name": "Soup", "quantity": 0, "unit_amount": 500}]}, "quantity must be at least 1"),
        ({"lines": [{"sku": "A", "name": "Soup", "quantity": -2, "unit_amount": 500}]}, "quantity must be at least 1"),
        ({"tip_amount": -100}, "tip must not be negative"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XXQ"}, "unknown currency"),
        ({"lines": [{"sku": "A", "name": "Wine cellar", "quantity": 1, "unit_amount": 5_000_000}]}, "over the ceiling"),
        ({"tip_amount": "ten"}, "tip_amount"),
        ({"lines": [{"sku": "A", "name": "Soup", "quantity": 1.5, "unit_amount": 500}]}, "quantity"),
    ],
)
def test_invalid_orders_get_422_with_a_clear_message(harness: Harness, changes, message):
    response = harness.checkout(make_order(**changes))
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]
    assert harness.state()["payments"] == []


def test_an_order_of_another_kiosk_is_refused(harness: Harness):
    response = harness.checkout(make_order(kiosk_id="kiosk-2"))
    assert response.status_code == 403


def test_a_kiosk_cannot_see_another_kiosks_payment(harness: Harness):
    payment = harness.checkout(make_order()).json()
    with harness.db() as conn:
        conn.execute(
            "INSERT INTO kiosks (kiosk_id, token_hash, created_at) VALUES ('kiosk-2', ?, '2026-01-01')",
            (token_hash("tpk_other"),),
        )
    response = httpx.get(
        f"{harness.service.url}/v1/payments/{payment['payment_id']}", headers={"Authorization": "Bearer tpk_other"}
    )
    assert response.status_code == 404


def test_same_idempotency_key_gives_one_session(harness: Harness):
    order = make_order()
    first = harness.checkout(order, **{"Idempotency-Key": "key-123"})
    second = harness.checkout(order, **{"Idempotency-Key": "key-123"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    sessions = harness.stripe_http.get("/v1/checkout/sessions", params={"limit": 100}).json()["data"]
    assert len(sessions) == 1
    assert len(harness.state()["payments"]) == 1


def test_idempotency_key_reused_for_another_order_is_refused(harness: Harness):
    assert harness.checkout(make_order(), **{"Idempotency-Key": "key-9"}).status_code == 201
    response = harness.checkout(make_order(), **{"Idempotency-Key": "key-9"})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["message"]


def test_openapi_document_lists_the_api(harness: Harness):
    document = httpx.get(f"{harness.service.url}/openapi.json").json()
    assert {
        "/v1/checkouts",
        "/v1/payments/{payment_id}",
        "/v1/payments/{payment_id}/refresh",
        "/v1/payments/{payment_id}/cancel",
        "/v1/events",
        "/webhooks/stripe",
        "/healthz",
        "/v1/orders/{order_id}/bill",
        "/bill/{token}/state",
        "/bill/{token}/shares",
    } <= set(document["paths"])


def test_healthz(harness: Harness):
    assert httpx.get(f"{harness.service.url}/healthz").json() == {"status": "ok"}


def test_a_retry_after_a_lost_answer_resumes_the_same_session(harness: Harness):
    order = make_order()
    first = harness.checkout(order, **{"Idempotency-Key": "key-lost"}).json()
    with harness.db() as conn:  # the answer never reached the kiosk and was not stored (a crash)
        conn.execute("DELETE FROM idempotent_requests")
        conn.execute("UPDATE payments SET checkout_url = NULL")
    again = harness.checkout(order, **{"Idempotency-Key": "key-lost"})
    assert again.status_code == 201, again.text
    assert again.json()["payment_id"] == first["payment_id"]
    assert again.json()["checkout_url"] == first["checkout_url"]  # Stripe replayed the same session
    sessions = harness.stripe_http.get("/v1/checkout/sessions", params={"limit": 100}).json()["data"]
    assert len(sessions) == 1


def test_a_kiosk_learns_its_own_id_from_its_token_and_whether_it_may_offer_donations(harness: Harness):
    assert harness.kiosk.get("/v1/kiosk").json() == {
        "kiosk_id": "kiosk-1",
        "donations": True,
        "donation_partner": "Red Cross",
        "kitchen": "on_send",  # TABLEPAY_KITCHEN: dishes go when sent
    }


def test_a_pay_first_service_tells_its_kiosks(tmp_path: Path):
    with running_harness(tmp_path, kitchen="after_payment") as harness:
        assert harness.kiosk.get("/v1/kiosk").json()["kitchen"] == "after_payment"


def test_a_service_without_a_donation_account_tells_its_kiosks_to_offer_none(tmp_path: Path):
    with running_harness(tmp_path, donation_account=None) as harness:
        assert harness.kiosk.get("/v1/kiosk").json() == {
            "kiosk_id": "kiosk-1",
            "donations": False,
            "donation_partner": "",  # no partner is named for donations nobody takes
            "kitchen": "on_send",
        }
        refused = harness.checkout(make_order(donation_amount=100))
        assert refused.status_code == 422, refused.text
