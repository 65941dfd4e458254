import pytest

from tablepay_domain.money import (
    MINOR_UNITS,
    Money,
    UnknownCurrency,
    from_hundredths,
    normalize_currency,
    to_hundredths,
)


def test_minor_units_follow_iso_4217():
    assert MINOR_UNITS["EUR"] == 2
    assert MINOR_UNITS["JPY"] == 0
    assert MINOR_UNITS["KRW"] == 0
    assert MINOR_UNITS["KWD"] == 3
    assert MINOR_UNITS["BHD"] == 3


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1250, "EUR", "12.50"),
        (5, "usd", "0.05"),
        (1500, "JPY", "1500"),
        (1250, "KWD", "1.250"),
        (-301, "EUR", "-3.01"),
    ],
)
def test_decimal_strings_round_trip_without_floats(amount, currency, text):
    assert Money(amount, currency).to_decimal_string() == text


def test_unknown_currency_is_named():
    with pytest.raises(UnknownCurrency, match="'XYZ'"):
        normalize_currency("XYZ")


def test_money_refuses_floats_and_mixing():
    with pytest.raises(TypeError):
        Money(12.5, "EUR")
    with pytest.raises(ValueError, match="cannot mix"):
        Money(1, "EUR") + Money(1, "USD")


@pytest.mark.parametrize(
    ("base", "percent", "expected"),
    [(1000, 10, 100), (1005, 10, 101), (1004, 10, 100), (333, 15, 50), (0, 20, 0), (2599, 15, 390)],
)
def test_percent_rounds_half_up(base, percent, expected):
    assert Money(base, "EUR").percent(percent).amount == expected


@pytest.mark.parametrize(
    ("amount", "currency", "hundredths"), [(1234, "EUR", 1234), (500, "JPY", 50000), (1230, "KWD", 123), (0, "BHD", 0)]
)
def test_hundredths_round_trip_exactly(amount: int, currency: str, hundredths: int) -> None:
    assert to_hundredths(amount, currency) == hundredths
    assert from_hundredths(hundredths, currency) == amount


def test_hundredths_refuse_to_round() -> None:
    with pytest.raises(ValueError, match="without rounding"):
        to_hundredths(1235, "KWD")
    with pytest.raises(ValueError, match="not a whole minor unit"):
        from_hundredths(150, "JPY")


def test_three_decimal_currencies_are_charged_in_steps_of_ten() -> None:
    from tablepay_domain.money import charge_step

    assert [charge_step(c) for c in ("KWD", "BHD", "EUR", "JPY")] == [10, 10, 1, 1]
    assert Money(12_345, "KWD").percent(15).amount == 1_850  # 1.85175 KWD -> 1.850 (half-up to 0.010)
    assert Money(12_345, "EUR").percent(15).amount == 1_852  # 18.5175 EUR -> 18.52
    assert Money(999, "JPY").percent(10).amount == 100
