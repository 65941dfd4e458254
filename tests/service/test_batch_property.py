"""Group commit must not change meaning: any split into batches ends where one-by-one does."""

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_service.providers.base import ProviderNotice
from sync_service.providers.stripe_gateway import observation_from_event
from sync_service.services.attempt_match import ATTENTION_PREFIX
from sync_service.services.feed import FeedNotifier
from sync_service.services.order_status import LATE_PAYMENT_PREFIX
from sync_service.services.payment_events import PaymentEvents
from sync_service.storage.repository import Repository
from tests.support.payment_store import store_with_open_payment
from tests.support.recorded_checkout import RecordedCheckout

META = {"payment_id": "pay_1"}
OURS = {"currency": "eur", "livemode": False, "metadata": META}
SESSION = {"id": "cs_1", "amount_total": 2300, **OURS}
INTENT = {"id": "pi_1", "amount": 2300, **OURS}
CHARGE = {"id": "ch_1", "amount": 2300, "payment_intent": "pi_1", "currency": "eur", "livemode": False}
EVENTS = {
    "completed": (
        "checkout.session.completed",
        {**SESSION, "status": "complete", "payment_status": "paid", "payment_intent": "pi_1"},
    ),
    "completed_unpaid": (
        "checkout.session.completed",
        {**SESSION, "status": "complete", "payment_status": "unpaid", "payment_intent": "pi_1"},
    ),
    "expired": ("checkout.session.expired", {**SESSION, "status": "expired"}),
    "async_failed": ("checkout.session.async_payment_failed", {**SESSION, "status": "complete"}),
    "pi_succeeded": ("payment_intent.succeeded", {**INTENT, "latest_charge": "ch_1"}),
    "pi_failed": ("payment_intent.payment_failed", INTENT),
    "refund_500": ("charge.refunded", {**CHARGE, "amount_refunded": 500}),
    "refund_all": ("charge.refunded", {**CHARGE, "amount_refunded": 2300}),
    "unrelated": ("customer.created", {"id": "cus_1"}),
    # Signed, carrying our payment_id, but not about our attempt: never applied, flagged when a success.
    "foreign_session_paid": (
        "checkout.session.completed",
        {**SESSION, "id": "cs_other", "status": "complete", "payment_status": "paid", "payment_intent": "pi_other"},
    ),
    "underpaid_session": (
        "checkout.session.completed",
        {**SESSION, "amount_total": 1, "status": "complete", "payment_status": "paid", "payment_intent": "pi_1"},
    ),
    "foreign_intent_paid": ("payment_intent.succeeded", {**INTENT, "id": "pi_other", "amount": 50, "currency": "usd"}),
}


def fresh_store() -> tuple[Repository, PaymentEvents]:
    repo = store_with_open_payment(Path(tempfile.mkdtemp()) / "sync.sqlite", tip_amount=300, donation_amount=0)
    return repo, PaymentEvents(
        repo, FeedNotifier(), provider=RecordedCheckout(), donation_account=None, donation_partner="x"
    )


def notice(kind: str, copy: int) -> ProviderNotice:
    event_type, obj = EVENTS[kind]
    return ProviderNotice(f"evt_{kind}_{copy}", event_type, observation_from_event(event_type, obj), json.dumps(obj))


def outcome(repo: Repository) -> tuple[object, ...]:
    payment = repo.payment("pay_1")
    assert payment is not None
    # The order's status is a state: batching may skip a status it passed through, never where it ends.
    feed = [(row["event"], row["amount_refunded"]) for row in repo.feed_after(0, 100) if row["event"] != "order.status"]
    stored = repo.stored_order(payment.order_id)
    assert stored is not None
    ends = (payment.status, payment.amount_refunded, payment.provider_payment_intent, payment.attention, feed)
    return (*ends, stored.order_status)


deliveries = st.lists(st.tuples(st.sampled_from(sorted(EVENTS)), st.integers(0, 1)), min_size=1, max_size=14)


@settings(max_examples=60, deadline=None)
@given(deliveries, st.lists(st.integers(1, 6), min_size=1, max_size=14))
def test_any_batching_ends_where_one_by_one_ends(sequence, cuts):
    notices = [notice(kind, copy) for kind, copy in sequence]
    one_repo, one_events = fresh_store()
    for item in notices:
        with one_repo.transaction():
            one_events._accept_batch([item])
    batch_repo, batch_events = fresh_store()
    start, sizes = 0, iter(cuts * len(notices))
    while start < len(notices):
        size = next(sizes)
        with batch_repo.transaction():
            batch_events._accept_batch(notices[start : start + size])
        start += size
    assert outcome(batch_repo) == outcome(one_repo)
    succeeded = [event for event, _ in outcome(one_repo)[4] if event == "payment.succeeded"]
    assert len(succeeded) <= 1
    _, _, intent, attention, _, _ = outcome(one_repo)
    assert intent in (None, "pi_1")  # a foreign object's id is never stored as ours
    mismatched = {"foreign_session_paid", "underpaid_session", "foreign_intent_paid"} & {k for k, _ in sequence}
    assert (ATTENTION_PREFIX in (attention or "")) == bool(mismatched)
    # A payment that arrived after its checkout had expired (and no other attempt was live) is flagged too.
    late = LATE_PAYMENT_PREFIX in (attention or "")
    assert not late or ("expired" in {k for k, _ in sequence} and outcome(one_repo)[0].is_paid)


def test_an_expiry_then_a_payment_is_flagged_late_whether_batched_or_not():
    late = [notice("expired", 0), notice("completed", 0)]
    for cut in (1, 2):
        repo, events = fresh_store()
        for start in range(0, len(late), cut):
            with repo.transaction():
                events._accept_batch(late[start : start + cut])
        status, _, _, attention, _, order_status = outcome(repo)
        assert status.is_paid and order_status == "paid", cut
        assert attention is not None and attention.startswith(LATE_PAYMENT_PREFIX), cut
