from hypothesis import given
from hypothesis import strategies as st

from tablepay_domain.payment_state import RANK, TRANSITIONS, PaymentStatus, advance, refund_status

S = PaymentStatus


def test_every_allowed_move_goes_forward():
    for before, targets in TRANSITIONS.items():
        for after in targets:
            assert RANK[after] > RANK[before] or before is after is S.PARTIALLY_REFUNDED


def test_stale_events_never_undo_a_payment():
    assert advance(S.PAID, S.EXPIRED).after is S.PAID
    assert advance(S.PAID, S.FAILED).after is S.PAID
    assert advance(S.PAID, S.CANCELLED).after is S.PAID
    assert advance(S.REFUNDED, S.PAID).after is S.REFUNDED


def test_a_late_success_wins_over_unpaid_endings():
    for ending in (S.FAILED, S.CANCELLED, S.EXPIRED):
        assert advance(ending, S.PAID).after is S.PAID


def test_the_first_unpaid_ending_sticks():
    assert advance(S.CANCELLED, S.EXPIRED).after is S.CANCELLED
    assert advance(S.FAILED, S.EXPIRED).after is S.FAILED


def test_refund_status():
    assert refund_status(1000, 300) is S.PARTIALLY_REFUNDED
    assert refund_status(1000, 1000) is S.REFUNDED


@given(st.lists(st.sampled_from(list(PaymentStatus)), max_size=30))
def test_random_event_sequences_never_go_back_and_end_at_the_strongest(events):
    status = S.OPEN
    for event in events:
        after = advance(status, event).after
        assert RANK[after] >= RANK[status]
        status = after
    strongest = max([RANK[S.OPEN], *(RANK[e] for e in events)])
    assert RANK[status] == strongest
    # Among equally strong unpaid endings (failed/cancelled/expired) the first one to arrive stays.
    ties = [e for e in events if RANK[e] == strongest]
    if strongest == RANK[S.FAILED]:
        assert status is ties[0]
    elif events:
        assert status in ties


@given(st.permutations([S.PENDING, S.PAID, S.EXPIRED, S.FAILED, S.CANCELLED]))
def test_any_delivery_order_of_a_paid_payment_ends_paid(order):
    status = S.OPEN
    for event in order:
        status = advance(status, event).after
    assert status is S.PAID
