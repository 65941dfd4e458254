"""Refunds through the service and the sandbox: checked first, made once, reflected from events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync_service.api.auth import issue_kiosk_token
from tablepay_domain.money import Money
from tests.support.harness import Harness, make_order, running_harness
from tests.support.waiting import eventually


def sandbox_refunds(h: Harness) -> list[dict[str, Any]]:
    return list(h.stripe_http.get("/v1/refunds", params={"limit": 100}).json()["data"])


def test_a_refund_over_what_is_left_is_refused_before_the_provider(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        payment = h.paid()
        assert h.refund(payment["payment_id"], 1000).status_code == 202
        too_much = h.refund(payment["payment_id"], payment["amount_total"] - 999)
        assert too_much.status_code == 422
        error = too_much.json()["error"]
        assert error["code"] == "refund_too_large"
        left = Money(payment["amount_total"] - 1000, "EUR")
        assert error["message"] == f"Only {left.to_decimal_string()} EUR is left to refund on this payment."
        for amount in (0, -5):
            assert h.refund(payment["payment_id"], amount).json()["error"]["code"] == "invalid_refund"
        assert len(sandbox_refunds(h)) == 1


def test_the_same_idempotency_key_is_one_refund(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        payment = h.paid()
        answers = [h.refund(payment["payment_id"], 300, key="same") for _ in range(3)]
        assert {a.status_code for a in answers} == {202}
        assert len({a.json()["refund_id"] for a in answers}) == 1
        assert len(sandbox_refunds(h)) == 1
        other = h.kiosk.post(
            f"/v1/payments/{payment['payment_id']}/refunds", json={"amount": 301}, headers={"Idempotency-Key": "same"}
        )
        assert other.status_code == 422


def test_zero_decimal_currency_refunds_exactly(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        lines = [{"sku": "RAMEN", "name": "Ramen", "quantity": 2, "unit_amount": 1200}]
        payment = h.paid(currency="JPY", lines=lines, tip_amount=0, donation_amount=0)
        assert payment["amount_total"] == 2400
        assert h.refund(payment["payment_id"], 2400).status_code == 202
        assert h.wait_status(payment["payment_id"], "refunded")["amount_refunded"] == 2400
        assert [(r["amount"], r["currency"]) for r in sandbox_refunds(h)] == [(2400, "jpy")]


def test_only_a_manager_token_refunds_and_only_paid_payments(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        payment = h.paid()
        plain = issue_kiosk_token(h.app.state.repo, "kiosk-1")  # replaces the manager token
        response = h.kiosk.post(
            f"/v1/payments/{payment['payment_id']}/refunds",
            json={"amount": 100},
            headers={"Authorization": f"Bearer {plain}"},
        )
        assert response.status_code == 403 and "--manager" in response.json()["error"]["message"]
        h.kiosk.headers["Authorization"] = "Bearer " + issue_kiosk_token(h.app.state.repo, "kiosk-1", manager=True)
        opened = h.checkout(make_order()).json()
        response = h.refund(opened["payment_id"], 100)
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_refundable"
        assert h.kiosk.post("/v1/payments/pay_nope/refunds", json={"amount": 1}).status_code == 404


def test_lookup_shows_the_services_view_with_the_pos_status(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        lines = [{"sku": "MARG", "name": "Pizza", "quantity": 1, "unit_amount": 950}]
        payment = h.paid(lines=lines)

        def looked_up() -> dict[str, Any]:
            [seen] = h.kiosk.post("/v1/payments/lookup", json={"payment_ids": [payment["payment_id"], "pay_x"]}).json()[
                "payments"
            ]
            assert seen["pos_status"] == "paid", seen
            return dict(seen)

        seen = eventually(looked_up, message="the POS status paid in the lookup")
        assert (seen["status"], seen["pos_status"], seen["amount_total"]) == ("paid", "paid", 950 + 280)


def test_an_order_paid_twice_keeps_both_payments_and_flags_the_later_for_refund(tmp_path: Path) -> None:
    from sync_service.providers.base import Observation
    from tablepay_domain.payment_state import PaymentStatus

    with running_harness(tmp_path) as h:
        order = make_order()
        h.sandbox_mode("hold")  # the guest pays attempt 1, but its webhooks are late
        first = h.checkout(order).json()
        h.complete(first, "succeeded")
        # Meanwhile attempt 1 is seen as expired (a stale event applied first), so the waiter opens attempt 2.
        events = h.app.state.payment_events

        async def expire() -> None:
            events.apply_observation(first["payment_id"], Observation(status=PaymentStatus.EXPIRED), "test")

        h.service.run(expire())
        second = h.checkout(order).json()
        assert second["attempt"] == 2
        h.complete(second, "succeeded")
        h.stripe_http.post("/_sandbox/delivery", json={"mode": "deliver"})
        h.stripe_http.post("/_sandbox/deliveries/release")
        h.wait_status(second["payment_id"], "paid")
        late = h.wait_status(first["payment_id"], "paid")  # the money was taken: a late success wins
        flagged = [p for p in (late, h.payment(second["payment_id"])) if p["attention"]]
        assert len(flagged) == 1 and flagged[0]["attention"].startswith("double_payment:")
        seen = h.kiosk.post(
            "/v1/payments/lookup", json={"payment_ids": [first["payment_id"], second["payment_id"]]}
        ).json()
        assert sum(1 for p in seen["payments"] if p["attention"]) == 1
