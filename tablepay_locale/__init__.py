"""How TablePay shows money to people: the kiosk's screens and the guests' pages, in their locale (Babel).

Display only, never parsed back. A leaf beside the domain (it imports nothing of ours but the
domain's Money): the kiosk and the sync service's guest pages must show an amount the same way.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel import Locale, negotiate_locale
from babel.numbers import NumberPattern

from tablepay_domain.money import MINOR_UNITS, Money

# The locales the kiosk offers (its settings screen) and the guest pages choose from.
LOCALES = ("en_IE", "en_GB", "en_US", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL")
DEFAULT_LOCALE = "en_IE"


@cache
def _pattern(locale: str, digits: int) -> NumberPattern:
    """The locale's currency pattern with exactly the currency's ISO 4217 decimals.

    Babel's own currency digits come from CLDR, which rounds 14 of our currencies (1250 HUF minor
    units would show "12 Ft"), so the pattern's fraction digits are set from MINOR_UNITS instead.
    """
    pattern: NumberPattern = copy.copy(Locale.parse(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


def format_money(money: Money, locale: str = DEFAULT_LOCALE) -> str:
    """'€12.50' for 1250 EUR in en_IE, '12,50 €' in de_DE. Decimal, never float."""
    digits = MINOR_UNITS[money.currency]
    value = Decimal(money.amount).scaleb(-digits)
    return str(_pattern(locale, digits).apply(value, locale, currency=money.currency, currency_digits=False))


def format_money_whole(money: Money, locale: str = DEFAULT_LOCALE) -> str:
    """'€151' for 15080 EUR in en_IE: whole units, rounded half up. For a label where the exact sum
    does not fit (a chart's bar), never for an amount someone pays or is refunded."""
    whole = (Decimal(money.amount).scaleb(-MINOR_UNITS[money.currency])).quantize(Decimal(1), ROUND_HALF_UP)
    return str(_pattern(locale, 0).apply(whole, locale, currency=money.currency, currency_digits=False))


def guest_locale(accept_language: str | None) -> str:
    """The offered locale closest to a browser's Accept-Language ('de-AT,de;q=0.9' -> de_DE)."""
    wanted = []
    for part in (accept_language or "").split(",")[:20]:  # a header is the guest's: bounded
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            wanted.append((quality, tag.replace("-", "_")))
    preferred = [tag for _, tag in sorted(wanted, key=lambda item: -item[0])]
    exact = negotiate_locale(preferred, LOCALES)
    if exact:
        return exact
    by_language = {locale.split("_")[0]: locale for locale in reversed(LOCALES)}  # first offered per language
    for tag in preferred:
        if (language := tag.split("_")[0].lower()) in by_language:
            return by_language[language]
    return DEFAULT_LOCALE
