import pytest

from tablepay_domain.order import InvalidOrder, Limits, Line, Order, validate_order


def order(**changes):
    values = dict(
        order_id="o-1",
        kiosk_id="k-1",
        currency="eur",
        table="12",
        waiter="Ana",
        lines=(Line("PASTA", "Pasta", 2, 1250), Line("WATER", "Water", 1, 300)),
        tip_amount=280,
        donation_amount=100,
    )
    values.update(changes)
    return Order(**values)


def test_totals_are_computed_and_revenue_is_dishes_only():
    valid = validate_order(order())
    assert valid.currency == "EUR"
    assert valid.dish_subtotal == 2800
    assert valid.amount_total == 2800 + 280 + 100
    assert valid.revenue.amount == 2800


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lines": ()}, "no dishes"),
        ({"lines": (Line("A", "Soup", 0, 500),)}, "quantity must be at least 1"),
        ({"lines": (Line("A", "Soup", -1, 500),)}, "quantity must be at least 1"),
        ({"lines": (Line("A", "Soup", 1, -500),)}, "price must not be negative"),
        ({"tip_amount": -1}, "tip must not be negative"),
        ({"donation_amount": -5}, "donation must not be negative"),
        ({"currency": "ABC"}, "unknown currency"),
        ({"lines": (Line("A", "Caviar", 1, 2_000_000),)}, "over the ceiling"),
        ({"lines": (Line("A", "Free water", 1, 0),), "tip_amount": 0, "donation_amount": 0}, "nothing to pay"),
    ],
)
def test_invalid_orders_are_refused_with_a_clear_message(changes, message):
    with pytest.raises(InvalidOrder, match=message):
        validate_order(order(**changes), Limits(max_total=1_000_000))


def test_three_decimal_amounts_must_be_chargeable() -> None:
    from tablepay_domain.order import InvalidOrder, Line, Order, validate_order

    lines = (Line(sku="TEA", name="Tea", quantity=2, unit_amount=1_235),)
    with pytest.raises(InvalidOrder, match=r"line 1 \(Tea\) price 1.235 KWD is not a multiple of 0.010 KWD"):
        validate_order(Order(order_id="o", kiosk_id="k", currency="KWD", table="1", waiter="", lines=lines))
    fine = (Line(sku="TEA", name="Tea", quantity=2, unit_amount=1_230),)
    order = validate_order(
        Order(order_id="o", kiosk_id="k", currency="kwd", table="1", waiter="", lines=fine, tip_amount=370)
    )
    assert (order.currency, order.amount_total) == ("KWD", 2_830)
