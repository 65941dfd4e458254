"""Amounts in minor units shown the way Stripe's messages and pages show them."""

from __future__ import annotations

from tablepay_domain.money import MINOR_UNITS

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩", "cny": "¥"}


def decimals(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


def format_amount(amount: int, currency: str) -> str:
    """1234 usd -> '$12.34'; 1500 jpy -> '¥1,500'; 1234 kwd -> 'KWD 1.234'. Integer maths only."""
    places = decimals(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**places) if places else (abs(amount), 0)
    text = f"{whole:,}" + (f".{fraction:0{places}d}" if places else "")
    symbol = _SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency.upper()} {text}"


# Stripe's minimum charge amounts (docs: currencies#minimum-and-maximum-charge-amounts), in minor
# units; currencies not listed are not checked.
MINIMUM_CHARGE = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "chf": 50,
    "cad": 50,
    "aud": 50,
    "nzd": 50,
    "sgd": 50,
    "jpy": 50,
    "dkk": 250,
    "sek": 300,
    "nok": 300,
    "pln": 200,
    "czk": 1500,
    "huf": 17500,
    "ron": 200,
    "bgn": 100,
    "hkd": 400,
    "mxn": 1000,
    "inr": 50,
    "myr": 200,
    "thb": 1000,
    "aed": 200,
    "brl": 50,
}


def below_minimum(amount: int, currency: str) -> str | None:
    """Stripe's wording for an amount under the minimum, e.g. '$0.50 usd'; None when it is fine."""
    minimum = MINIMUM_CHARGE.get(currency.lower())
    if minimum is None or amount >= minimum:
        return None
    return f"{format_amount(minimum, currency)} {currency.lower()}"
