"""Group commit must not change meaning: any split into batches ends where one-by-one does."""

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_service.models import PaymentRecord, utc_now
from sync_service.providers.base import ProviderNotice
from sync_service.providers.stripe_gateway import observation_from_event
from sync_service.services.feed import FeedNotifier
from sync_service.services.payment_events import PaymentEvents
from sync_service.storage.db import open_database
from sync_service.storage.repository import Repository
from tablepay_domain.payment_state import PaymentStatus

META = {"payment_id": "pay_1"}
EVENTS = {
    "completed": ("checkout.session.completed", {"id": "cs_1", "status": "complete", "payment_status": "paid",
                                                 "payment_intent": "pi_1", "amount_total": 2300, "metadata": META}),
    "completed_unpaid": ("checkout.session.completed", {"id": "cs_1", "status": "complete",
                                                        "payment_status": "unpaid", "payment_intent": "pi_1",
                                                        "metadata": META}),
    "expired": ("checkout.session.expired", {"id": "cs_1", "status": "expired", "metadata": META}),
    "async_failed": ("checkout.session.async_payment_failed", {"id": "cs_1", "status": "complete",
                                                               "metadata": META}),
    "pi_succeeded": ("payment_intent.succeeded", {"id": "pi_1", "amount": 2300, "latest_charge": "ch_1",
                                                  "metadata": META}),
    "pi_failed": ("payment_intent.payment_failed", {"id": "pi_1", "metadata": META}),
    "refund_500": ("charge.refunded", {"id": "ch_1", "amount": 2300, "amount_refunded": 500,
                                       "payment_intent": "pi_1"}),
    "refund_all": ("charge.refunded", {"id": "ch_1", "amount": 2300, "amount_refunded": 2300,
                                       "payment_intent": "pi_1"}),
    "unrelated": ("customer.created", {"id": "cus_1"}),
}


def fresh_store() -> tuple[Repository, PaymentEvents]:
    repo = Repository(open_database(Path(tempfile.mkdtemp()) / "sync.sqlite"))
    now = utc_now()
    with repo.transaction():
        repo.conn.execute("INSERT INTO orders VALUES ('o1', 'k1', 'EUR', '4', 'Ana', '{}', ?, ?)", (now, now))
        repo.insert_payment(PaymentRecord(
            payment_id="pay_1", order_id="o1", attempt=1, kiosk_id="k1", status=PaymentStatus.OPEN,
            currency="EUR", dish_subtotal=2000, tip_amount=300, donation_amount=0, amount_total=2300,
            amount_refunded=0, snapshot="{}", provider="stripe", provider_session_id="cs_1",
            provider_payment_intent=None, provider_charge=None, checkout_url="http://x", expires_at=0,
            idempotency_key=None, failure_reason=None, created_at=now, updated_at=now, paid_at=None))
    return repo, PaymentEvents(repo, FeedNotifier(), provider="stripe", donation_account=None,
                               donation_partner="x")


def notice(kind: str, copy: int) -> ProviderNotice:
    event_type, obj = EVENTS[kind]
    return ProviderNotice(f"evt_{kind}_{copy}", event_type, observation_from_event(event_type, obj), json.dumps(obj))


def outcome(repo: Repository) -> tuple[object, ...]:
    payment = repo.payment("pay_1")
    assert payment is not None
    feed = [(row["event"], row["amount_refunded"]) for row in repo.feed_after(0, 100)]
    return payment.status, payment.amount_refunded, payment.provider_payment_intent, feed


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
            batch_events._accept_batch(notices[start:start + size])
        start += size
    assert outcome(batch_repo) == outcome(one_repo)
    succeeded = [event for event, _ in outcome(one_repo)[3] if event == "payment.succeeded"]
    assert len(succeeded) <= 1
