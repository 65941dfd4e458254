"""Figures copied by hand from Stripe's documentation: the tests' oracle, never the product's tables."""

from __future__ import annotations

# "Minimum and maximum charge amounts", https://docs.stripe.com/currencies, as the page writes them
# (major units). Converted below from the text itself, so nothing here reads the product's tables.
MINIMUM_CHARGE_AS_DOCUMENTED = {
    "USD": "0.50",
    "EUR": "0.50",
    "GBP": "0.30",
    "CHF": "0.50",
    "JPY": "50",
    "AUD": "0.50",
    "CAD": "0.50",
    "DKK": "2.50",
    "SEK": "3.00",
    "NOK": "3.00",
    "PLN": "2.00",
    "CZK": "15.00",
    "HUF": "175.00",
    "HKD": "4.00",
    "MXN": "10.00",
    "THB": "10.00",
    "AED": "2.00",
}


def documented_minimum(currency: str) -> int:
    """'0.50' -> 50, '50' -> 50: the minor units as the documented text has them."""
    return int(MINIMUM_CHARGE_AS_DOCUMENTED[currency].replace(".", ""))
