"""The split bill's arithmetic: shares add up to the bill to the cent, no dish unit is paid twice, nothing
is ever taken beyond what is left (properties over random guests, and the words a guest reads)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tablepay_domain.bill import Bill, BillLine, Share, SplitMode, SplitRefused, quote, with_share

PASTA, WATER = BillLine("PASTA", "Pasta", 3, 1250), BillLine("WATER", "Sparkling water", 2, 300)


def a_bill(*lines: BillLine) -> Bill:
    return Bill("EUR", lines or (PASTA, WATER))


def test_three_equal_thirds_of_an_odd_total_add_up_to_the_cent() -> None:
    bill = a_bill(BillLine("MENU", "Menu", 1, 10_001))
    amounts = []
    for _ in range(3):
        share = quote(bill, SplitMode.EQUAL, ways=3)
        amounts.append(share.amount)
        bill = with_share(bill, share, ways=3)
    assert amounts == [3333, 3334, 3334] and sum(amounts) == 10_001 and bill.remaining == 0


@given(
    total=st.integers(min_value=2, max_value=10**7),
    ways=st.integers(min_value=2, max_value=50),
    picks=st.lists(st.integers(min_value=1, max_value=50), max_size=60),
)
def test_equal_shares_paid_in_any_groups_add_up_to_the_bill(total: int, ways: int, picks: list[int]) -> None:
    assume(total >= ways)  # a bill of less than one cent a share cannot be split that many ways (refused)
    bill = a_bill(BillLine("MENU", "Menu", 1, total))
    for pick in picks:
        open_shares = ways - bill.equal_shares_taken()
        if open_shares == 0:
            break
        share = quote(bill, SplitMode.EQUAL, ways=ways, pay_shares=min(pick, open_shares))
        assert share.amount >= total // ways * share.equal_shares  # never less than a fair share's floor
        bill = with_share(bill, share, ways=ways)
    if bill.equal_shares_taken() == ways:
        assert bill.held == total and bill.remaining == 0
    else:
        assert bill.held + bill.remaining == total and bill.remaining > 0


@given(
    requests=st.lists(
        st.dictionaries(st.sampled_from(["PASTA", "WATER"]), st.integers(min_value=1, max_value=3), min_size=1),
        max_size=12,
    )
)
def test_no_dish_unit_is_ever_held_twice(requests: list[dict[str, int]]) -> None:
    bill = a_bill()
    for wanted in requests:
        try:
            share = quote(bill, SplitMode.ITEMS, items=wanted)
        except SplitRefused as refused:
            assert refused.conflict  # only ever "another guest is paying for it"
            continue
        bill = with_share(bill, share)
    taken = bill.units_taken()
    assert taken["PASTA"] <= 3 and taken["WATER"] <= 2
    assert bill.held == taken["PASTA"] * 1250 + taken["WATER"] * 300 <= bill.total


@given(
    asks=st.lists(
        st.one_of(
            st.tuples(st.just(SplitMode.AMOUNT), st.integers(min_value=-5, max_value=5000)),
            st.tuples(st.just(SplitMode.ITEMS), st.sampled_from(["PASTA", "WATER"])),
            st.tuples(st.just(SplitMode.EQUAL), st.integers(min_value=1, max_value=4)),
            st.tuples(st.just(SplitMode.REMAINING), st.none()),
        ),
        max_size=15,
    )
)
def test_whatever_guests_ask_nothing_is_taken_beyond_the_bill(asks: list[tuple[SplitMode, object]]) -> None:
    bill = a_bill()
    for mode, value in asks:
        try:
            if mode is SplitMode.AMOUNT:
                share = quote(bill, mode, amount=int(value), minimum=50)
            elif mode is SplitMode.ITEMS:
                share = quote(bill, mode, items={str(value): 1}, minimum=50)
            elif mode is SplitMode.EQUAL:
                share = quote(bill, mode, ways=4, pay_shares=int(value), minimum=50)
            else:
                share = quote(bill, mode, minimum=50)
        except SplitRefused:
            continue
        bill = with_share(bill, share, ways=4)
        assert share.amount > 0 and bill.held <= bill.total
    assert bill.held + bill.remaining == bill.total


def test_the_words_a_guest_reads() -> None:
    bill = with_share(a_bill(), Share(3 * 1250, SplitMode.ITEMS, units=(("PASTA", 3),)))
    with pytest.raises(SplitRefused, match="Pasta: only 0 left to choose; another guest is paying for the rest"):
        quote(bill, SplitMode.ITEMS, items={"PASTA": 1})
    with pytest.raises(SplitRefused, match=r"Only 6\.00 EUR is left to pay; this part costs 70\.00 EUR"):
        quote(bill, SplitMode.AMOUNT, amount=7000)
    with pytest.raises(SplitRefused, match=r"A payment must be at least 0\.50 EUR") as small:
        quote(bill, SplitMode.AMOUNT, amount=10, minimum=50)
    assert not small.value.conflict
    assert quote(bill, SplitMode.REMAINING).amount == 600
    last = with_share(bill, Share(580, SplitMode.AMOUNT))
    assert quote(last, SplitMode.REMAINING, minimum=50).amount == 20  # the last cents stay payable
    done = with_share(last, Share(20, SplitMode.REMAINING, paid=True))
    with pytest.raises(SplitRefused, match="Nothing is left to pay") as nothing:
        quote(done, SplitMode.AMOUNT, amount=100)
    assert nothing.value.conflict
    with pytest.raises(SplitRefused, match="already split 3 ways"):
        quote(with_share(a_bill(), Share(1, SplitMode.EQUAL, equal_shares=1), ways=3), SplitMode.EQUAL, ways=4)
