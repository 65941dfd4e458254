"""What only Mollie does: an id-only webhook that must be fetched, chargebacks, cancelability, and the
mollie/WooCommerce#1159 trap (an old attempt's `expired` after a newer attempt's `paid`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tablepay_sandbox.mollie import MollieOptions
from tests.support.harness import Harness, make_order, running_harness
from tests.support.waiting import eventually


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, provider="mollie") as harness:
        yield harness


def webhook(h: Harness, body: str) -> httpx.Response:
    return httpx.post(
        f"{h.service.url}/webhooks/mollie",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def tr(h: Harness, payment: dict[str, Any]) -> str:
    return h.session_id(payment)


def mollie(h: Harness, method: str, path: str, **kwargs: Any) -> Any:
    response = h.provider.http.request(method, path, **kwargs)
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else None


def test_an_id_that_is_not_ours_gets_200_and_changes_nothing(h: Harness) -> None:
    payment = h.checkout(make_order()).json()
    before = h.state()
    # Another shop's payment at the same Mollie account, and an id nobody created: the same answer.
    foreign = mollie(
        h,
        "POST",
        "/v2/payments",
        json={
            "amount": {"currency": "EUR", "value": "30.80"},
            "description": "another shop",
            "redirectUrl": "https://example.com/back",
            "metadata": {"payment_id": payment["payment_id"]},  # even our payment id in its metadata
        },
    )
    mollie(h, "POST", f"/_sandbox/mollie/payments/{foreign['id']}/status", json={"status": "paid"})
    for body in (f"id={foreign['id']}", "id=tr_neverMadeAnywhere"):
        answer = webhook(h, body)
        assert (answer.status_code, answer.json()) == (200, {"received": True})
    after = h.state()
    assert after["payments"] == before["payments"] and after["feed"] == before["feed"]
    assert h.payment(payment["payment_id"])["status"] == "open"
    with h.db() as conn:
        kept = conn.execute("SELECT verdict, error FROM webhook_requests ORDER BY id").fetchall()
    assert [verdict for verdict, _ in kept] == ["rejected", "rejected"]
    assert all("not a checkout of ours" in reason for _, reason in kept)


@pytest.mark.parametrize("body", ["", "id=", "id=cs_test_123", "id=tr_a&id=tr_b", '{"id": "tr_x"}', "id=tr_%ff"])
def test_a_malformed_body_gets_400_and_changes_nothing(h: Harness, body: str) -> None:
    before = h.state()
    answer = webhook(h, body)
    assert answer.status_code == 400, answer.text
    assert h.state()["payments"] == before["payments"]


def test_mollie_unreachable_while_fetching_answers_503_and_the_next_call_applies_it(h: Harness) -> None:
    h.sandbox_mode("hold")
    payment = h.checkout(make_order()).json()
    h.complete(payment, "succeeded")
    mollie(h, "POST", "/_sandbox/mollie/faults", json={"status": 503, "count": 1})
    first = webhook(h, f"id={tr(h, payment)}")
    assert first.status_code == 503, first.text
    assert h.payment(payment["payment_id"])["status"] == "open"
    with h.db() as conn:
        [(verdict, body)] = conn.execute("SELECT verdict, body FROM webhook_requests").fetchall()
    assert (verdict, body) == ("failed", f"id={tr(h, payment)}")  # kept raw, as it came
    again = webhook(h, f"id={tr(h, payment)}")
    assert again.status_code == 200, again.text
    assert h.payment(payment["payment_id"])["status"] == "paid"
    assert len([e for e in h.feed() if e["event"] == "payment.succeeded"]) == 1


def test_a_chargeback_after_paid_is_recorded_and_flagged_for_the_manager(tmp_path: Path) -> None:
    with running_harness(tmp_path, provider="mollie", pos=True) as h:
        order = make_order(lines=[{"sku": "MARG", "name": "Pizza margherita", "quantity": 2, "unit_amount": 950}])
        payment = h.checkout(order).json()
        h.complete(payment, "succeeded")
        h.wait_status(payment["payment_id"], "paid")
        eventually(lambda: h.pos_state(order["order_id"])["status"] == "paid", message="booked in the POS")
        mollie(h, "POST", f"/_sandbox/mollie/payments/{tr(h, payment)}/chargebacks", json={})
        h.webhooks_settled()

        def flagged() -> dict[str, Any]:
            found = h.kiosk.post("/v1/payments/lookup", json={"payment_ids": [payment["payment_id"]]}).json()
            [row] = found["payments"]
            assert row["amount_charged_back"] == payment["amount_total"], row
            return dict(row)

        row = eventually(flagged, message="the chargeback in the manager's lookup")
        assert row["status"] == "paid"
        assert row["attention"].startswith("chargeback: the guest's bank took back 21.80 EUR")
        charged = [e for e in h.feed() if e["event"] == "payment.charged_back"]
        assert len(charged) == 1 and charged[0]["payment_id"] == payment["payment_id"]
        trail = [step["step"] for step in h.pos_state(order["order_id"])["trail"]]
        assert trail.count("chargeback_noted") == 1
        # Mollie calls again (a retry, the sweep): nothing more happens.
        mollie(h, "POST", f"/_sandbox/mollie/payments/{tr(h, payment)}/webhook")
        assert len([e for e in h.feed() if e["event"] == "payment.charged_back"]) == 1


def test_an_old_attempts_expired_never_touches_the_newer_attempts_paid(tmp_path: Path) -> None:
    """mollie/WooCommerce#1159: an order paid by its second payment was cancelled by the first one's `expired`."""
    with running_harness(tmp_path, provider="mollie", mollie_timeout_seconds=0.5) as h:
        order = make_order()
        # Attempt 1: Mollie creates the payment but answers too late; the service gives the attempt up.
        mollie(h, "POST", "/_sandbox/mollie/faults", json={"delay_seconds": 1.5, "count": 1})
        assert h.checkout(order).status_code == 502
        orphan = mollie(h, "GET", "/v2/payments", params={"limit": 1})["_embedded"]["payments"][0]
        # Attempt 2 is paid; attempt 3 of another order is cancelled by the waiter.
        second = h.checkout(order).json()
        assert second["attempt"] == 2
        h.complete(second, "succeeded")
        h.wait_status(second["payment_id"], "paid")
        other = h.checkout(make_order()).json()
        assert h.kiosk.post(f"/v1/payments/{other['payment_id']}/cancel").status_code == 200
        feed = h.feed()
        # Mollie then expires the orphan and repeats the cancelled one's news.
        mollie(h, "POST", f"/_sandbox/mollie/payments/{orphan['id']}/status", json={"status": "expired"})
        mollie(h, "POST", f"/_sandbox/mollie/payments/{tr(h, other)}/webhook")
        h.webhooks_settled()
        assert h.payment(second["payment_id"])["status"] == "paid"
        assert h.payment(other["payment_id"])["status"] == "cancelled"
        assert h.feed() == feed


def test_a_payment_mollie_will_not_cancel_is_explained_to_the_waiter(tmp_path: Path) -> None:
    options = MollieOptions(cancelable_while_open=False, retry_time_factor=1e-4)
    with running_harness(tmp_path, provider="mollie", mollie_options=options) as h:
        payment = h.checkout(make_order()).json()
        answer = h.kiosk.post(f"/v1/payments/{payment['payment_id']}/cancel")
        assert answer.status_code == 409, answer.text
        assert "Mollie does not let this payment be cancelled" in answer.json()["error"]["message"]
        assert h.payment(payment["payment_id"])["status"] == "open"


def test_a_late_paid_after_expired_of_the_same_attempt_wins(h: Harness) -> None:
    payment = h.checkout(make_order()).json()
    h.complete(payment, "expired")
    h.wait_status(payment["payment_id"], "expired")
    # A bank transfer that arrives after the payment expired: Mollie reports it paid, and it is.
    mollie(h, "POST", f"/_sandbox/mollie/payments/{tr(h, payment)}/status", json={"status": "paid", "force": True})
    assert h.wait_status(payment["payment_id"], "paid")["paid_at"]


def test_a_webhook_that_could_not_be_fetched_is_replayed_from_its_raw_request(h: Harness) -> None:
    h.sandbox_mode("hold")
    payment = h.checkout(make_order()).json()
    h.complete(payment, "succeeded")
    mollie(h, "POST", "/_sandbox/mollie/faults", json={"status": 503, "count": 1})
    assert webhook(h, f"id={tr(h, payment)}").status_code == 503
    events = h.app.state.payment_events
    outcomes = h.service.run(events.replay_failed(h.app.state.provider))
    assert list(outcomes.values()) == ["applied"]
    assert h.payment(payment["payment_id"])["status"] == "paid"
    with h.db() as conn:
        assert conn.execute("SELECT verdict FROM webhook_requests").fetchall() == [("replayed: applied",)]
