"""Display of integer minor units in the kiosk's locale (Babel). Display only: never parsed back."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from tablepay_domain.money import MINOR_UNITS, Money


def format_money(money: Money, locale: str = "en_IE") -> str:
    """'€12.50' for 1250 EUR in en_IE, '12,50 €' in de_DE. Decimal, never float."""
    value = Decimal(money.amount).scaleb(-MINOR_UNITS[money.currency])
    return str(format_currency(value, money.currency, locale=locale))
