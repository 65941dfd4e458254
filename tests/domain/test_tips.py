from hypothesis import given
from hypothesis import strategies as st

from tablepay_domain.money import Money
from tablepay_domain.tips import DonationChoice, DonationKind, TipChoice, TipKind, compute_totals, round_up_amount


def test_tip_presets_round_half_up_on_the_dish_subtotal():
    assert TipChoice(TipKind.PERCENT, 15).amount(Money(3600, "EUR")) == Money(540, "EUR")
    assert TipChoice(TipKind.PERCENT, 15).amount(Money(1230, "EUR")) == Money(185, "EUR")  # 184.5 -> 185
    assert TipChoice(TipKind.PERCENT, 10).amount(Money(1234, "EUR")) == Money(123, "EUR")  # 123.4 -> 123
    assert TipChoice(TipKind.CUSTOM, 275).amount(Money(1000, "EUR")) == Money(275, "EUR")
    assert TipChoice().amount(Money(1000, "EUR")) == Money(0, "EUR")


def test_round_up_goes_to_the_next_whole_unit():
    assert round_up_amount(Money(4140, "EUR")) == Money(60, "EUR")
    assert round_up_amount(Money(4200, "EUR")) == Money(0, "EUR")
    assert round_up_amount(Money(1501, "JPY")) == Money(0, "JPY")
    assert round_up_amount(Money(1250, "KWD")) == Money(750, "KWD")


def test_totals_keep_tip_and_donation_separate():
    totals = compute_totals(Money(3600, "EUR"), TipChoice(TipKind.PERCENT, 15), DonationChoice(DonationKind.ROUND_UP))
    assert (totals.dishes.amount, totals.tip.amount, totals.donation.amount, totals.total.amount) == (
        3600,
        540,
        60,
        4200,
    )
    assert totals.revenue == Money(3600, "EUR")
    fixed = compute_totals(Money(3600, "EUR"), TipChoice(), DonationChoice(DonationKind.FIXED, 200))
    assert fixed.total == Money(3800, "EUR")


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_round_up_lands_on_a_whole_unit_and_adds_less_than_one(amount, currency):
    money = Money(amount, currency)
    extra = round_up_amount(money)
    unit = {"EUR": 100, "JPY": 1, "KWD": 1000}[currency]
    assert 0 <= extra.amount < unit and (amount + extra.amount) % unit == 0


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=100))
def test_percent_tip_is_the_nearest_integer_half_up(subtotal, percent):
    tip = TipChoice(TipKind.PERCENT, percent).amount(Money(subtotal, "EUR")).amount
    exact2 = subtotal * percent * 2  # twice the exact tip, times 100
    assert 200 * tip - 100 <= exact2 < 200 * tip + 100
