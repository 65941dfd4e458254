"""ISO 4217 minor units end to end: zero-, two- and three-decimal currencies through Stripe and the POS, exactly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.harness import Harness, make_order, running_harness
from tests.support.waiting import eventually

CASES = [  # currency, price of one pizza, tip: all in minor units
    ("JPY", 1_200, 180),
    ("EUR", 950, 143),
    ("KWD", 2_350, 350),
    ("BHD", 1_990, 0),
]


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_harness(tmp_path_factory.mktemp("currencies"), pos=True) as harness:
        yield harness


def _pos_payment(h: Harness, order_id: str) -> dict[str, Any]:
    def paid_in_pos() -> dict[str, Any]:
        found = [o for o in h.stripe_http.get("/_sandbox/rkeeper/orders").json() if order_id in str(o)]
        assert found and found[0]["payments"], found
        return dict(found[0]["payments"][0])

    return eventually(paid_in_pos, message=f"order {order_id} paid in the POS")


def test_an_amount_a_card_cannot_pay_is_refused_before_stripe(h: Harness) -> None:
    lines = [{"sku": "MARG", "name": "Pizza", "quantity": 1, "unit_amount": 2_355}]
    response = h.checkout(make_order(currency="KWD", lines=lines, tip_amount=0))
    assert response.status_code == 422
    assert "2.355 KWD is not a multiple of 0.010 KWD" in response.json()["error"]["message"]
    # And the sandbox, like Stripe, refuses it too.
    refused = h.stripe_http.post(
        "/v1/checkout/sessions",
        data={
            "mode": "payment",
            "success_url": "http://127.0.0.1/s",
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": "kwd",
            "line_items[0][price_data][unit_amount]": "2355",
            "line_items[0][price_data][product_data][name]": "Pizza",
        },
    )
    assert refused.status_code == 400 and "multiple of 10" in refused.json()["error"]["message"]
