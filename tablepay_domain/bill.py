"""A bill split between guests: what each part costs and what may still be taken. Pure, no I/O.

The service computes every amount here, never takes one from a guest's page. A part being paid
(held) or paid is a `Share`; the bill never has more held and paid than its dishes cost, and a
dish unit is in at most one share. Tips and donations ride on top of a share and never reduce
what is left. Rules and their sources: shared/reference/split-bill-partners-pay-first.md §1.3.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum

from .money import Money


class SplitMode(str, Enum):
    REMAINING = "remaining"  # everything that is left
    EQUAL = "equal"  # k of N equal shares
    ITEMS = "items"  # whole units of dishes
    AMOUNT = "amount"  # an amount of the guest's choice


class SplitRefused(ValueError):
    """Why a share cannot be taken, in words a guest understands.

    `conflict`: the bill changed under the guest (a dish taken, the rest paid): show it again (409);
    otherwise the request itself is wrong (422)."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.conflict = conflict


@dataclass(frozen=True)
class BillLine:
    sku: str
    name: str
    quantity: int
    unit_amount: int  # minor units

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_amount


@dataclass(frozen=True)
class Share:
    """A part of the bill someone is paying (held) or has paid; its `amount` excludes tip and donation."""

    amount: int
    mode: SplitMode
    paid: bool = False
    equal_shares: int = 0  # EQUAL: how many of the N shares it is
    units: tuple[tuple[str, int], ...] = ()  # ITEMS: (sku, quantity) of dish units


@dataclass(frozen=True)
class Bill:
    currency: str
    lines: tuple[BillLine, ...]
    shares: tuple[Share, ...] = ()
    split_ways: int | None = None  # EQUAL: N, set by the first guest (or the waiter)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def paid(self) -> int:
        return sum(share.amount for share in self.shares if share.paid)

    @property
    def held(self) -> int:
        return sum(share.amount for share in self.shares if not share.paid)

    @property
    def remaining(self) -> int:
        """What nobody pays or holds yet: the part a new share may take."""
        return self.total - self.paid - self.held

    @property
    def settled(self) -> bool:
        """Nothing is left of the dishes and nothing is held: the order is paid."""
        return self.paid >= self.total

    def units_taken(self) -> Counter[str]:
        taken: Counter[str] = Counter()
        for share in self.shares:
            for sku, quantity in share.units:
                taken[sku] += quantity
        return taken

    def units_free(self) -> dict[str, int]:
        """Per dish, the units no share holds or paid."""
        taken = self.units_taken()
        return {line.sku: line.quantity - taken[line.sku] for line in self.lines}

    def equal_shares_taken(self) -> int:
        return sum(share.equal_shares for share in self.shares)

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


def quote(
    bill: Bill,
    mode: SplitMode,
    *,
    minimum: int = 1,
    ways: int | None = None,
    pay_shares: int = 1,
    items: dict[str, int] | None = None,
    amount: int | None = None,
) -> Share:
    """The share a guest asks for, priced by the bill as it is now (SplitRefused when it cannot be taken).

    `minimum`: the provider's smallest charge in the currency; a share below it is refused, unless it is
    all that is left (a bill's last few cents must still be payable)."""
    left = bill.remaining
    if left <= 0:
        raise SplitRefused("Nothing is left to pay on this bill.", conflict=True)
    if mode is SplitMode.REMAINING:
        share = Share(left, mode)
    elif mode is SplitMode.EQUAL:
        share = _equal(bill, ways, pay_shares)
    elif mode is SplitMode.ITEMS:
        share = _items(bill, items or {})
    else:
        share = _amount(bill, amount)
    if share.amount > left:
        raise SplitRefused(
            f"Only {bill.money(left)} is left to pay; this part costs {bill.money(share.amount)}.", conflict=True
        )
    if share.amount < min(minimum, left):
        raise SplitRefused(f"A payment must be at least {bill.money(minimum)}.")
    if mode is SplitMode.AMOUNT and 0 < left - share.amount < minimum:
        # What is left must itself be chargeable: the provider refuses a smaller checkout.
        raise SplitRefused(f"Pay all that is left, or leave at least {bill.money(minimum)} for the others.")
    return share


def _equal(bill: Bill, ways: int | None, pay_shares: int) -> Share:
    split = bill.split_ways or ways
    if split is None or not 2 <= split <= 50:
        raise SplitRefused("Choose how many ways to split the bill: 2 to 50.")
    if bill.split_ways is not None and ways not in (None, bill.split_ways):
        raise SplitRefused(f"This bill is already split {bill.split_ways} ways.", conflict=True)
    left_shares = split - bill.equal_shares_taken()
    if left_shares <= 0:
        raise SplitRefused("Every equal share is already paid or being paid.", conflict=True)
    if not 1 <= pay_shares <= left_shares:
        raise SplitRefused(f"You can pay 1 to {left_shares} of the {split} shares.")
    # Each share is the rest divided by the shares still open; the last payer pays exactly the rest,
    # so the shares add up to the bill to the cent.
    rest = bill.remaining
    amount = rest if pay_shares == left_shares else rest // left_shares * pay_shares
    return Share(amount, SplitMode.EQUAL, equal_shares=pay_shares)


def _items(bill: Bill, items: dict[str, int]) -> Share:
    if not items:
        raise SplitRefused("Choose at least one dish.")
    prices = {line.sku: line for line in bill.lines}
    free = bill.units_free()
    amount = 0
    for sku, quantity in sorted(items.items()):
        line = prices.get(sku)
        if line is None:
            raise SplitRefused("One of the dishes chosen is not on this bill.", conflict=True)
        if quantity <= 0:
            raise SplitRefused(f"Choose a whole number of {line.name}.")
        if quantity > free[sku]:
            raise SplitRefused(
                f"{line.name}: only {free[sku]} left to choose; another guest is paying for the rest.", conflict=True
            )
        amount += quantity * line.unit_amount
    return Share(amount, SplitMode.ITEMS, units=tuple(sorted(items.items())))


def _amount(bill: Bill, amount: int | None) -> Share:
    if amount is None or amount <= 0:
        raise SplitRefused("Enter the amount you want to pay.")
    return Share(amount, SplitMode.AMOUNT)


def with_share(bill: Bill, share: Share, *, ways: int | None = None) -> Bill:
    """The bill once `share` is held (the first equal share fixes the number of ways)."""
    split = bill.split_ways
    if share.mode is SplitMode.EQUAL and split is None:
        split = ways
    return Bill(bill.currency, bill.lines, (*bill.shares, share), split)
