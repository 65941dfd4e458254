"""The kiosk shows every currency with its own ISO 4217 minor units, exactly."""

from __future__ import annotations

import pytest

from pos_app.money_format import format_money, format_money_whole
from tablepay_domain.money import MINOR_UNITS, Money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1_200, "JPY", "JP¥1,200"),
        (950, "EUR", "€9.50"),
        (2_350, "KWD", "KWD2.350"),
        (1, "BHD", "BHD0.001"),
        (123_456_789, "EUR", "€1,234,567.89"),
    ],
)
def test_amounts_are_shown_with_the_currencys_own_decimals(amount: int, currency: str, shown: str) -> None:
    assert format_money(Money(amount, currency)).replace("\xa0", "") == shown


# ISO 4217's own list (the SIX table), written out here rather than read from the product's MINOR_UNITS:
# the currencies with no decimals and those with three; every other one we take has two.
ISO_4217_ZERO = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "UYI",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
ISO_4217_THREE = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}


def iso_decimals(code: str) -> int:
    return 0 if code in ISO_4217_ZERO else 3 if code in ISO_4217_THREE else 2


@pytest.mark.parametrize("currency", sorted(MINOR_UNITS))
@pytest.mark.parametrize("locale", ["en_IE", "de_DE"])
def test_every_currency_shows_every_minor_unit(currency: str, locale: str) -> None:
    amount = 1_234_567
    shown = format_money(Money(amount, currency), locale)
    decimal_mark = "." if locale == "en_IE" else ","
    number = "".join(ch for ch in shown if ch.isdigit() or ch == decimal_mark)
    whole, _, fraction = number.partition(decimal_mark)
    assert len(fraction) == iso_decimals(currency), shown
    assert int(whole + fraction) == amount, shown


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        # Written out as people write them: whole units, half up.
        (15080, "EUR", "en_IE", "€151"),
        (41049, "EUR", "en_IE", "€410"),
        (41050, "EUR", "de_DE", "411\xa0€"),
        (1250, "JPY", "en_IE", "JP¥1,250"),  # as format_money shows it in en_IE
        (12345, "KWD", "en_IE", "KWD12"),  # 12.345 KWD
    ],
)
def test_a_chart_label_in_whole_units_rounds_half_up(amount: int, currency: str, locale: str, shown: str) -> None:
    assert format_money_whole(Money(amount, currency), locale) == shown
