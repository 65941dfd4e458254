"""Mollie's amount objects (`{"currency": "EUR", "value": "10.00"}`) <-> integer minor units.

The currencies Mollie takes and their decimal places come from Mollie's multicurrency page
(docs.mollie.com/docs/multicurrency, read 2026; the tail of the table, NZD..ZAR, from the same
page's former version, docs.mollie.com/payments/multicurrency). Mollie lists no three-decimal
currency (KWD, BHD, ...), so those are refused like any currency it does not take. HUF has two
decimals at Mollie (fillér), as in ISO 4217.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import unprocessable

DECIMALS: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED", "AUD", "BGN", "BRL", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS",
            "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RON", "SEK", "SGD", "THB", "TWD", "USD", "ZAR",
        ],
        2,
    ),
    "ISK": 0,
    "JPY": 0,
}  # fmt: skip

# The smallest amount: 0.01 for iDEAL and cards in the Methods API examples (openapi specs.yaml,
# list-methods `minimumAmount`), i.e. one minor unit; per-method minimums are not modelled.
MINIMUM_MINOR = 1

_VALUE = re.compile(r"^(?P<whole>\d+)(?:\.(?P<fraction>\d+))?$")


def parse(amount: Any, field: str, *, allow_negative: bool = False, allow_zero: bool = False) -> tuple[int, str]:
    """A request's amount object -> (minor units, currency); 422 naming `field` when malformed."""
    if not isinstance(amount, dict):
        raise unprocessable(f"The amount is invalid: {field} must be an object with currency and value.", field)
    currency, value = amount.get("currency"), amount.get("value")
    if not isinstance(currency, str) or currency.upper() != currency or currency not in DECIMALS:
        raise unprocessable(f"The currency '{currency}' is not supported.", f"{field}.currency")
    if not isinstance(value, str):
        raise unprocessable(
            f'The amount value must be a string, like "{format_value(1000, currency)}".', f"{field}.value"
        )
    negative = value.startswith("-") and allow_negative
    match = _VALUE.match(value[1:] if negative else value)
    places = DECIMALS[currency]
    fraction = match.group("fraction") if match else None
    if match is None or len(fraction or "") != places:
        raise unprocessable(
            f"The amount value '{value}' is invalid: {currency} amounts have exactly {places} decimals.",
            f"{field}.value",
        )
    minor = int(match.group("whole")) * 10**places + int(fraction or 0)
    minor = -minor if negative else minor
    if not allow_zero and not allow_negative and minor < MINIMUM_MINOR:
        raise unprocessable(f"The amount is lower than the minimum of {format_value(MINIMUM_MINOR, currency)}.", field)
    return minor, currency


def format_value(minor: int, currency: str) -> str:
    """1000 EUR -> "10.00"; 1000 JPY -> "1000"; -250 EUR -> "-2.50". Integer maths only."""
    places = DECIMALS[currency]
    sign = "-" if minor < 0 else ""
    if not places:
        return f"{sign}{abs(minor)}"
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def amount(minor: int, currency: str) -> dict[str, str]:
    return {"currency": currency, "value": format_value(minor, currency)}
