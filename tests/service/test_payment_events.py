"""The state change core on a real SQLite store, fed Stripe-shaped events in any order."""

import json
from pathlib import Path

import pytest

from sync_service.providers.base import ProviderNotice
from sync_service.providers.stripe_gateway import observation_from_event, observation_from_session
from sync_service.services.feed import FeedNotifier
from sync_service.services.payment_events import PaymentEvents
from tablepay_domain.payment_state import PaymentStatus
from tests.support.payment_store import store_with_open_payment
from tests.support.recorded_checkout import RecordedCheckout


@pytest.fixture
def store(tmp_path: Path):
    repo = store_with_open_payment(tmp_path / "sync.sqlite", tip_amount=200, donation_amount=100)
    checkout = RecordedCheckout(SESSION_OPEN)
    events = PaymentEvents(
        repo, FeedNotifier(), provider=checkout, donation_account="acct_1", donation_partner="Red Cross"
    )
    return repo, events, checkout


def notice(event_id: str, event_type: str, obj: dict) -> ProviderNotice:
    return ProviderNotice(event_id, event_type, observation_from_event(event_type, obj), json.dumps(obj))


SESSION_PAID = {
    "id": "cs_1",
    "object": "checkout.session",
    "status": "complete",
    "payment_status": "paid",
    "payment_intent": "pi_1",
    "amount_total": 2300,
    "currency": "eur",
    "livemode": False,
    "metadata": {"payment_id": "pay_1"},
}
# What a retrieve (expand: payment_intent) of cs_1 says while the guest's card was declined and may be retried.
SESSION_OPEN = {
    **SESSION_PAID,
    "status": "open",
    "payment_status": "unpaid",
    "payment_intent": {
        "id": "pi_1",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "latest_charge": "ch_0",
    },
}
INTENT_OK = {
    "id": "pi_1",
    "object": "payment_intent",
    "status": "succeeded",
    "amount": 2300,
    "currency": "eur",
    "livemode": False,
    "latest_charge": "ch_1",
    "metadata": {"payment_id": "pay_1"},
}


def charge_refunded(refunded: int) -> dict:
    return {
        "id": "ch_1",
        "object": "charge",
        "amount": 2300,
        "amount_refunded": refunded,
        "currency": "eur",
        "livemode": False,
        "payment_intent": "pi_1",
        "metadata": {},
    }


@pytest.mark.asyncio
async def test_refund_events_out_of_order_keep_the_largest_refund(store):
    repo, events, _ = store
    assert await events.accept_notice(notice("evt_1", "checkout.session.completed", SESSION_PAID)) == "applied"
    assert await events.accept_notice(notice("evt_3", "charge.refunded", charge_refunded(2300))) == "applied"
    assert await events.accept_notice(notice("evt_2", "charge.refunded", charge_refunded(500))) == "unchanged"
    payment = repo.payment("pay_1")
    assert payment.status is PaymentStatus.REFUNDED and payment.amount_refunded == 2300
    # With the order's status moving to paid once (a refund leaves it where it is).
    assert [row["event"] for row in repo.feed_after(0, 10)] == ["payment.succeeded", "order.status", "payment.refunded"]


@pytest.mark.asyncio
async def test_partial_refunds_grow_and_then_complete(store):
    repo, events, _ = store
    await events.accept_notice(notice("evt_1", "payment_intent.succeeded", INTENT_OK))
    await events.accept_notice(notice("evt_2", "charge.refunded", charge_refunded(300)))
    await events.accept_notice(notice("evt_3", "charge.refunded", charge_refunded(800)))
    await events.accept_notice(notice("evt_4", "charge.refunded", charge_refunded(2300)))
    assert [(r["status"], r["amount_refunded"]) for r in repo.feed_after(0, 10) if r["event"] != "order.status"] == [
        ("paid", 0),
        ("partially_refunded", 300),
        ("partially_refunded", 800),
        ("refunded", 2300),
    ]


@pytest.mark.asyncio
async def test_an_intent_event_before_the_session_event_learns_the_intent_from_our_checkout(store):
    repo, events, checkout = store
    checkout.session = SESSION_PAID
    assert await events.accept_notice(notice("evt_1", "payment_intent.succeeded", INTENT_OK)) == "applied"
    assert checkout.retrieved == ["cs_1"]  # the link comes from our session, not from the event's metadata
    payment = repo.payment("pay_1")
    assert payment.status is PaymentStatus.PAID and payment.provider_payment_intent == "pi_1"
    assert repo.event_seen("evt_1")
    assert await events.accept_notice(notice("evt_2", "checkout.session.completed", SESSION_PAID)) == "unchanged"
    assert len(repo.outbox_rows("donation.transfer")) == 1


@pytest.mark.asyncio
async def test_late_failure_never_downgrades_and_late_success_wins(store):
    repo, events, _ = store
    failed = {
        **INTENT_OK,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "decline_code": "generic_decline"},
    }
    await events.accept_notice(notice("evt_1", "payment_intent.payment_failed", failed))
    assert repo.payment("pay_1").status is PaymentStatus.FAILED
    assert repo.payment("pay_1").failure_reason == "generic_decline"
    await events.accept_notice(notice("evt_2", "payment_intent.succeeded", INTENT_OK))
    assert repo.payment("pay_1").status is PaymentStatus.PAID
    await events.accept_notice(notice("evt_3", "checkout.session.expired", {**SESSION_PAID, "status": "expired"}))
    assert repo.payment("pay_1").status is PaymentStatus.PAID


@pytest.mark.asyncio
async def test_an_event_for_an_unknown_payment_is_recorded_as_unmatched(store):
    repo, events, _ = store
    other = {**SESSION_PAID, "id": "cs_other", "metadata": {}}
    assert await events.accept_notice(notice("evt_9", "checkout.session.completed", other)) == "unmatched"
    assert repo.event_seen("evt_9")
    assert repo.payment("pay_1").status is PaymentStatus.OPEN


@pytest.mark.asyncio
async def test_concurrent_notices_share_a_commit_and_a_failing_one_rolls_back_alone(store, monkeypatch):
    import asyncio

    from sync_service.services import payment_events

    repo, events, _ = store
    original = payment_events.decide

    def decide_or_fail(payment, obs, now):
        if obs.status is PaymentStatus.FAILED:
            raise RuntimeError("boom")
        return original(payment, obs, now)

    monkeypatch.setattr(payment_events, "decide", decide_or_fail)
    failed = {**INTENT_OK, "status": "requires_payment_method"}
    results = await asyncio.gather(
        events.accept_notice(notice("evt_a", "payment_intent.payment_failed", failed)),
        events.accept_notice(notice("evt_b", "checkout.session.completed", SESSION_PAID)),
        events.accept_notice(notice("evt_b", "checkout.session.completed", SESSION_PAID)),
        events.accept_notice(notice("evt_c", "payment_intent.succeeded", INTENT_OK)),
        return_exceptions=True,
    )
    assert isinstance(results[0], RuntimeError)
    assert results[1:] == ["applied", "duplicate", "unchanged"]
    assert not repo.event_seen("evt_a")  # rolled back, so Stripe's retry will apply it
    assert repo.payment("pay_1").status is PaymentStatus.PAID
    assert [row["event"] for row in repo.feed_after(0, 10)] == ["payment.succeeded", "order.status"]


@pytest.mark.asyncio
async def test_a_retrieved_checkout_that_does_not_match_is_flagged_not_applied(store):
    """Refresh, sweeps and cancels retrieve our own session by its id; its amount and mode still must match."""
    repo, events, _ = store
    underpaid = observation_from_session({**SESSION_PAID, "amount_total": 2299, "livemode": True})
    after = events.apply_observation("pay_1", underpaid, "refresh")
    assert after.status is PaymentStatus.OPEN and after.provider_payment_intent is None
    assert after.attention.startswith("provider_mismatch: the checkout as retrieved (refresh) about this")
    assert "amount 22.99 EUR, not 23.00 EUR" in after.attention and "live mode" in after.attention
    assert repo.outbox_rows() == [] and repo.feed_after(0, 10) == []
    events.apply_observation("pay_1", underpaid, "reconcile")  # the same news again: one note, not two
    assert repo.payment("pay_1").attention.count("amount 22.99 EUR") == 1
    assert events.apply_observation("pay_1", observation_from_session(SESSION_PAID), "refresh").status.is_paid


@pytest.mark.asyncio
async def test_a_failure_or_refund_of_a_foreign_object_changes_nothing(store):
    repo, events, _ = store
    await events.accept_notice(notice("evt_1", "checkout.session.completed", SESSION_PAID))
    foreign_refund = {
        **charge_refunded(2300),
        "id": "ch_9",
        "payment_intent": "pi_9",
        "metadata": {"payment_id": "pay_1"},
    }
    assert await events.accept_notice(notice("evt_2", "charge.refunded", foreign_refund)) == "mismatch"
    payment = repo.payment("pay_1")
    assert payment.status is PaymentStatus.PAID and payment.amount_refunded == 0 and payment.attention is None
