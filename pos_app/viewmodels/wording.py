"""Counts in words ("1 payment", "2 payments"): the one place the kiosk decides a plural.

Why not Babel's plural rules for the kiosk's locale: the kiosk's words are English whatever
`locale` says (the setting only decides how amounts and numbers look), and CLDR's rules belong
to the language of the words. French's rule calls 0 "one", so "0 payment" would follow from
fr_FR. The English rule is the whole of it: exactly 1 takes the singular, everything else
(0, 2, 1,000) the plural. When the kiosk's words are translated, this becomes gettext's
ngettext with each catalogue's own Plural-Forms, and the callers stay as they are.
"""

from __future__ import annotations

from babel.numbers import format_decimal

UI_LANGUAGE = "en"  # the language of every word the kiosk shows

# Nouns the kiosk counts, singular -> plural, so a caller names the thing once ("payment").
PLURALS = {
    "payment": "payments",
    "failed delivery": "failed deliveries",
    "order": "orders",
    "event": "events",
    "refund": "refunds",
    "package": "packages",
    "day": "days",
    "dish": "dishes",
    "change": "changes",
    "minute": "minutes",
    "hour": "hours",
}


def plural(count: int, singular: str) -> str:
    """The noun as English says it after `count`."""
    return singular if count == 1 else PLURALS.get(singular, singular + "s")


def counted(count: int, singular: str, locale: str = "en_IE") -> str:
    """'1 payment', '2 payments', '1,000 payments' ('1.000 payments' in de_DE: digits follow the locale)."""
    return f"{format_decimal(count, locale=locale)} {plural(count, singular)}"
