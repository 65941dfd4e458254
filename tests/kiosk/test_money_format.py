"""The kiosk shows every currency with its own ISO 4217 minor units, exactly."""

from __future__ import annotations

import pytest

from pos_app.money_format import format_money
from tablepay_domain.money import Money


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (1_200, "JPY", "JP¥1,200"), (950, "EUR", "€9.50"), (2_350, "KWD", "KWD2.350"), (1, "BHD", "BHD0.001"),
    (123_456_789, "EUR", "€1,234,567.89")])
def test_amounts_are_shown_with_the_currencys_own_decimals(amount: int, currency: str, shown: str) -> None:
    assert format_money(Money(amount, currency)).replace("\xa0", "") == shown
