"""Mollie's amounts: strings with exactly the currency's decimals ("12.50", "1250"), converted only here.

Inside TablePay money is an integer of minor units; Mollie's API takes and gives
`{"currency": "EUR", "value": "12.50"}`. The conversion is exact both ways, and a
value from Mollie that is not exactly that shape is refused, never rounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tablepay_domain.money import Money, minor_units

from .base import MalformedObject

# The payment currencies Mollie takes (docs.mollie.com/docs/multicurrency, read 2026-12-01): EUR for every
# method, the rest for cards and/or PayPal. Mollie uses ISO 4217's decimals for each of them (HUF with two,
# ISK and JPY with none), so `minor_units` gives Mollie's decimals. No three-decimal currency is taken.
MOLLIE_CURRENCIES = frozenset(
    {
        "AED", "AUD", "BGN", "BRL", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS", "ISK",
        "JPY", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RON", "SEK", "SGD", "THB", "TWD", "USD", "ZAR",
    }
)  # fmt: skip
# The same bound as the Stripe adapter's: anything larger is not an amount of ours.
MAX_AMOUNT = 10**12 - 1
_VALUE = re.compile(r"\d{1,13}(?:\.\d{1,3})?")


class CurrencyNotTaken(ValueError):
    """A currency Mollie does not accept: refused before anything is sent."""


def takes(currency: str) -> bool:
    return currency.upper() in MOLLIE_CURRENCIES


def mollie_amount(amount: int, currency: str) -> dict[str, str]:
    """1250 EUR -> {"currency": "EUR", "value": "12.50"}; 1250 JPY -> "1250"."""
    code = currency.upper()
    if code not in MOLLIE_CURRENCIES:
        raise CurrencyNotTaken(f"Mollie does not take payments in {code}")
    if not 0 <= amount <= MAX_AMOUNT:
        raise ValueError(f"{amount} is not an amount we send")
    return {"currency": code, "value": Money(amount, code).to_decimal_string()}


def minor_from_mollie(value: object, currency: str, field: str) -> int:
    """Mollie's value string in minor units, exactly: "12.50" EUR -> 1250; "12.5" or 12.5 is refused."""
    if not isinstance(value, str) or not _VALUE.fullmatch(value):
        raise MalformedObject(f"{field} {str(value)[:40]!r} is not an amount string")
    digits = minor_units(currency)
    whole, _, fraction = value.partition(".")
    if len(fraction) != digits:
        raise MalformedObject(f"{field} {value!r} does not have the {digits} decimals of {currency}")
    amount: int = int(whole) * 10**digits + (int(fraction) if fraction else 0)
    if amount > MAX_AMOUNT:
        raise MalformedObject(f"{field} {value!r} is beyond any amount of ours")
    return amount


def read_amount(obj: Mapping[str, Any], field: str, currency: str) -> int | None:
    """The amount object `obj[field]` in minor units of `currency` (the payment's); None when absent."""
    found = obj.get(field)
    if found is None:
        return None
    if not isinstance(found, Mapping) or found.get("currency") != currency:
        raise MalformedObject(f"{field} is not an amount in {currency}")
    return minor_from_mollie(found.get("value"), currency, field)
