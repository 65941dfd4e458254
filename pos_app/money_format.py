"""Display of integer minor units in the kiosk's locale (Babel). Display only: never parsed back."""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import NumberPattern

from tablepay_domain.money import MINOR_UNITS, Money


@cache
def _pattern(locale: str, digits: int) -> NumberPattern:
    """The locale's currency pattern with exactly the currency's ISO 4217 decimals.

    Babel's own currency digits come from CLDR, which rounds 14 of our currencies (1250 HUF minor
    units would show "12 Ft"), so the pattern's fraction digits are set from MINOR_UNITS instead.
    """
    pattern = copy.copy(Locale.parse(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


def format_money(money: Money, locale: str = "en_IE") -> str:
    """'€12.50' for 1250 EUR in en_IE, '12,50 €' in de_DE. Decimal, never float."""
    digits = MINOR_UNITS[money.currency]
    value = Decimal(money.amount).scaleb(-digits)
    return str(_pattern(locale, digits).apply(value, locale, currency=money.currency, currency_digits=False))
