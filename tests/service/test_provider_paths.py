"""The paths every provider must take, run for Stripe and for Mollie, on SQLite and on PostgreSQL, from this
one suite.

Each test starts the real service on the provider its parameter names, with the sandbox
playing that provider (tests/support/providers.py drives the guest's side); everything else
goes through the service's own API, the same for both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.numbers import get_currency_precision

from tablepay_domain.money import to_hundredths
from tests.support.harness import Harness, make_order, running_harness
from tests.support.providers import PROVIDERS
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("provider", PROVIDERS)


def test_a_checkout_is_paid_end_to_end(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        response = h.checkout(make_order(order_id="ord-e2e"))
        assert response.status_code == 201, response.text
        payment = response.json()
        assert (payment["status"], payment["attempt"]) == ("open", 1)
        assert payment["amount_total"] == 2 * 1250 + 300 + 280
        assert payment["checkout_url"].startswith(h.sandbox.url)
        assert httpx.get(payment["checkout_url"]).status_code == 200  # the guest's hosted page

        h.complete(payment, "succeeded")
        done = h.wait_status(payment["payment_id"], "paid")
        assert done["paid_at"]
        events = [e for e in h.feed() if e["event"].startswith("payment.")]  # order.status events aside
        assert [e["event"] for e in events] == ["payment.created", "payment.succeeded"]
        assert (events[-1]["amount_total"], events[-1]["tip_amount"]) == (payment["amount_total"], 280)
        # The guest's page after paying, with the amount as the kiosk shows it in the guest's language
        # (written out here, as people write it).
        for accept_language, shown in [
            ("de-AT,de;q=0.9,en;q=0.5", "30,80\xa0€"),
            ("fr-FR", "30,80\xa0€"),
            ("nl", "€\xa030,80"),
            ("en-US", "€30.80"),
            ("pt-BR", "€30.80"),
        ]:
            page = httpx.get(
                f"{h.service.url}/pay/success",
                params={"payment_id": payment["payment_id"]},
                headers={"Accept-Language": accept_language},
            )
            assert page.status_code == 200 and shown in page.text, (accept_language, page.text)
            if accept_language == "en-US":
                assert "Thank you" in page.text


def test_declined_then_retried_is_paid_as_attempt_two(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        order = make_order()
        first = h.checkout(order).json()
        h.complete(first, "failed")
        assert h.wait_status(first["payment_id"], "failed")["failure_reason"]
        second = h.checkout(order)
        assert second.status_code == 201, second.text
        assert second.json()["attempt"] == 2
        h.complete(second.json(), "succeeded")
        h.wait_status(second.json()["payment_id"], "paid")
        assert h.payment(first["payment_id"])["status"] == "failed"


def test_expired_then_retried_is_paid_as_attempt_two(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        order = make_order()
        first = h.checkout(order).json()
        h.complete(first, "expired")
        h.wait_status(first["payment_id"], "expired")
        second = h.checkout(order).json()
        assert second["attempt"] == 2
        h.complete(second, "succeeded")
        h.wait_status(second["payment_id"], "paid")
        assert [e["status"] for e in h.feed() if e["event"].startswith("payment.")] == [
            "open",
            "expired",
            "open",
            "paid",
        ]


def test_webhooks_repeated_and_reordered_give_one_success(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        h.sandbox_mode("hold")
        payment = h.checkout(make_order(donation_amount=200)).json()
        h.complete(payment, "succeeded")
        h.provider.redeliver_held(times=3)  # every held webhook three times, newest first
        h.wait_status(payment["payment_id"], "paid")
        assert len([e for e in h.feed() if e["event"] == "payment.succeeded"]) == 1
        assert h.payment(payment["payment_id"])["attention"] is None


def test_a_dropped_webhook_is_repaired_by_the_sweep(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(
        tmp_path,
        provider=provider,
        database_url=database_url,
        reconcile_after_seconds=0.2,
        reconcile_interval_seconds=0.2,
    ) as h:
        h.sandbox_mode("drop")
        payment = h.checkout(make_order()).json()
        h.complete(payment, "succeeded")
        assert h.wait_status(payment["payment_id"], "paid")["paid_at"]
        assert [e["event"] for e in h.feed() if e["event"].startswith("payment.")] == [
            "payment.created",
            "payment.succeeded",
        ]
        assert "refresh" in [row[2] for row in h.state()["integration_events"]]


def test_partial_refunds_then_the_rest_end_refunded(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        payment = h.paid()
        total = payment["amount_total"]
        first = h.refund(payment["payment_id"], 500, "r-1")
        assert first.status_code == 202, first.text
        assert first.json()["left_to_refund"] == total - 500
        assert h.refund(payment["payment_id"], 500, "r-1").json() == first.json()  # the same key: one refund
        h.provider.settle_refunds(payment)
        h.wait_status(payment["payment_id"], "partially_refunded")
        assert h.refund(payment["payment_id"], 700, "r-2").status_code == 202
        too_much = h.refund(payment["payment_id"], total, "r-too-much")
        assert too_much.status_code == 422 and too_much.json()["error"]["left_to_refund"] == total - 1200
        assert h.refund(payment["payment_id"], total - 1200, "r-3").status_code == 202
        h.provider.settle_refunds(payment)
        assert h.wait_status(payment["payment_id"], "refunded")["amount_refunded"] == total
        events = [(e["event"], e["amount_refunded"]) for e in h.feed() if e["payment_id"] == payment["payment_id"]]
        assert events[-1] == ("payment.refunded", total)
        assert ("payment.partially_refunded", 500) in events


def test_the_donation_is_routed_once_and_taken_back_in_part(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(
        tmp_path, provider=provider, database_url=database_url, background=False
    ) as h:  # the test runs the outbox
        h.sandbox_mode("hold")
        payment = h.checkout(make_order(donation_amount=200)).json()
        h.complete(payment, "succeeded")
        h.provider.redeliver_held(times=3)
        h.wait_status(payment["payment_id"], "paid")
        assert h.run_outbox() >= 1 and h.run_outbox() == 0
        assert h.provider.donation_moves(payment) == [{"amount": 200, "reversed": 0}]
        assert len(h.state()["donation_transfers"]) == 1
        h.sandbox_mode("deliver")

        # A refund comes off the restaurant's share first: the donation is untouched ...
        total = payment["amount_total"]
        assert h.refund(payment["payment_id"], total - 250, "most").status_code == 202
        h.provider.settle_refunds(payment)
        h.wait_status(payment["payment_id"], "partially_refunded")
        h.webhooks_settled()
        h.run_outbox()
        assert h.provider.donation_moves(payment) == [{"amount": 200, "reversed": 0}]
        # ... until the refund reaches into it: then exactly that part (150 of 200) comes back.
        assert h.refund(payment["payment_id"], 100, "into-the-donation").status_code == 202
        h.provider.settle_refunds(payment)
        eventually(lambda: h.payment(payment["payment_id"])["amount_refunded"] == total - 150)
        h.webhooks_settled()
        h.run_outbox()
        assert h.provider.donation_moves(payment) == [{"amount": 200, "reversed": 50}]
        assert h.run_outbox() == 0


# Three decimals: Stripe takes them; Mollie takes none, and the waiter is told before anything is sent.
CURRENCIES = [("JPY", 1_200, 180), ("EUR", 950, 143), ("KWD", 2_350, 350)]


@pytest.mark.parametrize(("currency", "price", "tip"), CURRENCIES)
def test_amounts_reach_the_provider_and_the_pos_exactly(
    tmp_path: Path, provider: str, database_url: str | None, currency: str, price: int, tip: int
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url, pos=True) as h:
        lines = [{"sku": "MARG", "name": "Pizza", "quantity": 3, "unit_amount": price}]
        order = make_order(currency=currency, lines=lines, tip_amount=tip, donation_amount=0)
        response = h.checkout(order)
        if provider == "mollie" and get_currency_precision(currency) == 3:
            assert response.status_code == 422, response.text
            assert response.json()["error"]["message"].startswith(f"Mollie does not take payments in {currency}")
            return
        assert response.status_code == 201, response.text
        payment = response.json()
        assert payment["amount_total"] == 3 * price + tip
        # What the provider was asked to charge, in its own representation, read with Babel's (CLDR) decimals.
        assert h.provider.charged(payment, get_currency_precision(currency)) == (3 * price + tip, currency)
        h.complete(payment, "succeeded")
        h.wait_status(payment["payment_id"], "paid")
        booked = pos_payment(h, order["order_id"])  # R-Keeper counts in hundredths of the major unit
        assert int(booked["amount"]) == to_hundredths(3 * price, currency)
        assert int(booked.get("tipAmount") or 0) == to_hundredths(tip, currency)
        assert str(booked["extTransactionInfo"]).startswith(f"{provider}:")
        refunded = h.kiosk.post(f"/v1/payments/{payment['payment_id']}/refunds", json={"amount": 3 * price + tip})
        assert refunded.status_code == 202, refunded.text
        h.provider.settle_refunds(payment)
        assert h.wait_status(payment["payment_id"], "refunded")["amount_refunded"] == 3 * price + tip


def pos_payment(h: Harness, order_id: str) -> dict[str, Any]:
    def paid_in_pos() -> dict[str, Any]:
        found = [o for o in h.stripe_http.get("/_sandbox/rkeeper/orders").json() if order_id in json.dumps(o)]
        assert len(found) == 1 and found[0]["payments"], found
        return dict(found[0]["payments"][0])

    return eventually(paid_in_pos, message=f"order {order_id} paid in the POS")


def test_the_pos_is_booked_once_whatever_the_webhooks_do(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url, pos=True) as h:
        h.sandbox_mode("hold")
        order = make_order(lines=[{"sku": "MARG", "name": "Margherita", "quantity": 2, "unit_amount": 950}])
        payment = h.checkout(order).json()
        h.complete(payment, "succeeded")
        h.provider.redeliver_held(times=3)
        h.wait_status(payment["payment_id"], "paid")
        eventually(lambda: h.pos_state(order["order_id"])["status"] == "paid", message="booked in the POS")
        h.provider.redeliver_held(times=2)  # late repeats after the booking
        assert len(pos_payment_list(h, order["order_id"])) == 1
        assert [e["event"] for e in h.feed() if e["event"] == "pos.paid"] == ["pos.paid"]


def pos_payment_list(h: Harness, order_id: str) -> list[dict[str, Any]]:
    found = [o for o in h.stripe_http.get("/_sandbox/rkeeper/orders").json() if order_id in json.dumps(o)]
    assert len(found) == 1, found  # never two POS orders for one TablePay order
    return list(found[0]["payments"])
