"""Tips and donations as the kiosk offers them: pure integer arithmetic, no I/O.

A tip is a percentage of the *dish subtotal* (never of the donation), rounded
half-up to the minor unit, or a custom amount typed on the number pad. A
donation is a fixed amount or "round up": the smallest amount that brings
dishes + tip to the next whole unit of the currency (0.35 EUR for 19.65 EUR).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .money import MINOR_UNITS, Money, normalize_currency

DEFAULT_TIP_PRESETS: tuple[int, ...] = (10, 15, 20)


class TipKind(str, Enum):
    NONE = "none"
    PERCENT = "percent"
    CUSTOM = "custom"


class DonationKind(str, Enum):
    NONE = "none"
    ROUND_UP = "round_up"
    FIXED = "fixed"


@dataclass(frozen=True)
class TipChoice:
    kind: TipKind = TipKind.NONE
    value: int = 0  # percent for PERCENT, minor units for CUSTOM

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise ValueError(f"tip value must be a non-negative int, got {self.value!r}")

    def amount(self, dish_subtotal: Money) -> Money:
        if self.kind is TipKind.PERCENT:
            return dish_subtotal.percent(self.value)
        if self.kind is TipKind.CUSTOM:
            return Money(self.value, dish_subtotal.currency)
        return Money.zero(dish_subtotal.currency)


@dataclass(frozen=True)
class DonationChoice:
    kind: DonationKind = DonationKind.NONE
    value: int = 0  # minor units for FIXED

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise ValueError(f"donation value must be a non-negative int, got {self.value!r}")

    def amount(self, before_donation: Money) -> Money:
        if self.kind is DonationKind.ROUND_UP:
            return round_up_amount(before_donation)
        if self.kind is DonationKind.FIXED:
            return Money(self.value, before_donation.currency)
        return Money.zero(before_donation.currency)


def whole_unit(currency: str) -> int:
    """Minor units in one whole unit: 100 for EUR, 1 for JPY, 1000 for KWD."""
    return int(10 ** MINOR_UNITS[normalize_currency(currency)])


def round_up_amount(total: Money) -> Money:
    """What brings `total` up to the next whole unit; 0 when it already is whole.

    For zero-decimal currencies (JPY) every amount is whole, so round-up gives
    nothing: the kiosk then offers the fixed amounts only.
    """
    unit = whole_unit(total.currency)
    return Money(-total.amount % unit, total.currency)


@dataclass(frozen=True)
class Totals:
    """The summary the guest sees: dishes, tip and donation, each on its own line."""

    dishes: Money
    tip: Money
    donation: Money

    @property
    def total(self) -> Money:
        return self.dishes + self.tip + self.donation

    @property
    def revenue(self) -> Money:
        """Only the dishes are the restaurant's revenue."""
        return self.dishes


def compute_totals(dish_subtotal: Money, tip: TipChoice, donation: DonationChoice) -> Totals:
    tip_amount = tip.amount(dish_subtotal)
    return Totals(dish_subtotal, tip_amount, donation.amount(dish_subtotal + tip_amount))
