"""A total below the provider's smallest card payment is refused with words a waiter reads, before Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tablepay_domain.money import Money
from tests.support.harness import Harness, make_order, running_harness
from tests.support.stripe_docs import MINIMUM_CHARGE_AS_DOCUMENTED, documented_minimum


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_harness(tmp_path_factory.mktemp("minimum"), pos=True) as harness:
        yield harness


def _order(currency: str, total: int) -> dict[str, Any]:
    return make_order(
        currency=currency,
        tip_amount=0,
        donation_amount=0,
        lines=[{"sku": "ESPR", "name": "Espresso", "quantity": 1, "unit_amount": total}],
    )


def _sessions(h: Harness) -> list[dict[str, Any]]:
    return list(h.stripe_http.get("/v1/checkout/sessions", params={"limit": 100}).json()["data"])


def test_the_waiter_reads_why_a_small_total_cannot_be_paid_by_card(h: Harness) -> None:
    sessions_before, order = len(_sessions(h)), _order("EUR", 30)
    response = h.checkout(order)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "below_minimum_charge"
    assert error["message"] == "The total 0.30 EUR is below the smallest card payment Stripe accepts (0.50 EUR)"
    assert len(_sessions(h)) == sessions_before  # Stripe was never asked
    with h.db() as conn:  # no attempt was stored, and the order did not go to the POS either
        assert conn.execute("SELECT count(*) FROM payments WHERE order_id = ?", (order["order_id"],)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pos_orders WHERE order_id = ?", (order["order_id"],)).fetchone() == (
            0,
        )


@pytest.mark.parametrize("currency", ["USD", "EUR", "GBP", "JPY", "CHF", "HUF", "SEK"])
def test_the_documented_minimum_itself_is_accepted_and_one_below_is_refused(h: Harness, currency: str) -> None:
    minimum = documented_minimum(currency)
    refused = h.checkout(_order(currency, minimum - 1))
    assert refused.status_code == 422, refused.text
    assert f"({Money(minimum, currency)})" in refused.json()["error"]["message"]
    accepted = h.checkout(_order(currency, minimum))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["amount_total"] == minimum


def test_a_small_dish_may_still_go_to_the_kitchen(h: Harness) -> None:
    assert h.kiosk.post("/v1/orders", json=_order("EUR", 30)).status_code == 202


def test_a_tip_can_lift_the_total_over_the_minimum(h: Harness) -> None:
    order = {**_order("GBP", 20), "tip_amount": 10}
    assert h.checkout(order).status_code == 201


@pytest.mark.parametrize("currency", sorted(MINIMUM_CHARGE_AS_DOCUMENTED))
def test_the_sandbox_refuses_below_the_minimum_like_stripe(h: Harness, currency: str) -> None:
    minimum = documented_minimum(currency)

    def create(amount: int) -> Any:
        return h.stripe_http.post(
            "/v1/checkout/sessions",
            data={
                "mode": "payment",
                "success_url": "http://127.0.0.1/s",
                "line_items[0][quantity]": "1",
                "line_items[0][price_data][currency]": currency.lower(),
                "line_items[0][price_data][unit_amount]": str(amount),
                "line_items[0][price_data][product_data][name]": "Espresso",
            },
        )

    below = create(minimum - 1)
    assert below.status_code == 400, below.text
    assert "total amount due must add up to at least" in below.json()["error"]["message"]
    assert create(minimum).status_code == 200
