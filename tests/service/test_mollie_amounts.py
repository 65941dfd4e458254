"""Mollie's amount strings, converted only in the adapter, exactly both ways (an independent oracle:
ISO 4217's minor units written out here, not the product's table)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_service.providers.base import MalformedObject
from sync_service.providers.mollie_money import CurrencyNotTaken, minor_from_mollie, mollie_amount

# ISO 4217 (the published list), for the currencies tested here.
ISO_DECIMALS = {"EUR": 2, "GBP": 2, "HUF": 2, "JPY": 0, "ISK": 0, "USD": 2}


@pytest.mark.parametrize(
    ("amount", "currency", "value"),
    [(1250, "EUR", "12.50"), (1250, "JPY", "1250"), (5, "EUR", "0.05"), (0, "ISK", "0"), (17500, "HUF", "175.00")],
)
def test_minor_units_become_mollies_strings(amount: int, currency: str, value: str) -> None:
    assert mollie_amount(amount, currency) == {"currency": currency, "value": value}


@given(st.sampled_from(sorted(ISO_DECIMALS)), st.integers(min_value=0, max_value=10**12 - 1))
def test_every_amount_round_trips_exactly(currency: str, amount: int) -> None:
    value = mollie_amount(amount, currency)["value"]
    whole, _, fraction = value.partition(".")
    assert len(fraction) == ISO_DECIMALS[currency]
    assert int(whole + fraction) == amount
    assert minor_from_mollie(value, currency, "amount") == amount


@pytest.mark.parametrize(
    "value", ["12.5", "12.500", 12.5, 1250, "1e3", "-1.00", " 1.00", "1,00", "", "1." + "0" * 2 + "1"]
)
def test_a_value_not_exactly_in_the_currencys_decimals_is_refused(value: object) -> None:
    with pytest.raises(MalformedObject):
        minor_from_mollie(value, "EUR", "amount")


def test_a_currency_mollie_does_not_take_is_refused_before_anything_is_sent() -> None:
    for currency in ("KWD", "BHD", "XXX"):
        with pytest.raises(CurrencyNotTaken):
            mollie_amount(100, currency)
