"""Apply what a provider says about a payment: the one place state changes.

Each call runs in one transaction: the event id is recorded (a repeat has no
second effect), the state machine decides, and the payment row, the feed
event and any outbox work are written together.
"""

from __future__ import annotations

import structlog

from tablepay_domain.payment_state import PaymentStatus, advance, refund_status

from ..models import PaymentRecord, utc_now
from ..providers.base import Observation, ProviderNotice
from ..storage.repository import Repository
from .feed import FeedNotifier

log = structlog.get_logger(__name__)

DONATION_TOPIC = "donation.transfer"


class PaymentEvents:
    def __init__(self, repo: Repository, notifier: FeedNotifier, *, provider: str,
                 donation_account: str | None, donation_partner: str) -> None:
        self._repo = repo
        self._notifier = notifier
        self._provider = provider
        self._donation_account = donation_account
        self._donation_partner = donation_partner

    def accept_notice(self, notice: ProviderNotice) -> str:
        """Apply a verified provider event once. Returns 'duplicate', 'applied', 'unchanged' or 'unmatched'."""
        obs = notice.observation
        with self._repo.transaction():
            if self._repo.event_seen(notice.event_id):
                return "duplicate"
            payment = self._repo.find_payment(payment_id=obs.payment_id, session_id=obs.session_id,
                                              payment_intent=obs.payment_intent)
            if payment is None:
                outcome = "unmatched" if obs.status else "ignored"
            else:
                outcome = "applied" if self._apply(payment, obs) else "unchanged"
            self._repo.record_event(notice.event_id, self._provider, notice.type,
                                    payment.payment_id if payment else None, outcome, notice.payload)
        if outcome == "applied":
            self._notifier.notify()
        log.info("webhook", event_id=notice.event_id, type=notice.type, outcome=outcome,
                 payment_id=payment.payment_id if payment else None)
        return outcome

    def apply_observation(self, payment_id: str, obs: Observation, source: str) -> PaymentRecord:
        """Apply a server-side retrieve (refresh, reconcile, cancel); returns the payment as it now is."""
        with self._repo.transaction():
            payment = self._repo.payment(payment_id)
            assert payment is not None, payment_id
            changed = self._apply(payment, obs)
            self._repo.record_event(f"{source}:{payment_id}:{utc_now()}", self._provider, source, payment_id,
                                    "applied" if changed else "unchanged", "")
            updated = self._repo.payment(payment_id)
        if changed:
            self._notifier.notify()
        assert updated is not None
        return updated

    def _apply(self, payment: PaymentRecord, obs: Observation) -> bool:
        """Inside a transaction: move the payment forward if the observation allows; True if it changed."""
        links: dict[str, object] = {}
        for column, value in (("provider_session_id", obs.session_id),
                              ("provider_payment_intent", obs.payment_intent), ("provider_charge", obs.charge)):
            if value and getattr(payment, column) != value and getattr(payment, column) is None:
                links[column] = value
        target, refunded = obs.status, payment.amount_refunded
        if obs.amount_refunded is not None:
            # Refund events may come out of order: the largest refunded sum is the newest.
            refunded = max(refunded, obs.amount_refunded)
            target = refund_status(payment.amount_total, refunded)
        transition = advance(payment.status, target) if target else None
        moved = bool(transition and transition.changed and (
            transition.after is not payment.status or refunded != payment.amount_refunded))
        if not moved:
            if links:
                self._repo.update_payment(payment.payment_id, **links)
            return False
        assert transition is not None
        after = transition.after
        changes: dict[str, object] = {**links, "status": after, "amount_refunded": refunded}
        if after.is_paid and payment.paid_at is None:
            changes["paid_at"] = utc_now()
        if after is PaymentStatus.FAILED and obs.failure_reason:
            changes["failure_reason"] = obs.failure_reason
        if after is PaymentStatus.PAID and obs.amount_total not in (None, payment.amount_total):
            log.warning("amount_mismatch", payment_id=payment.payment_id, ours=payment.amount_total,
                        provider=obs.amount_total)
        self._repo.update_payment(payment.payment_id, **changes)
        updated = self._repo.payment(payment.payment_id)
        assert updated is not None
        self._repo.append_feed(updated)
        if after.is_paid and not payment.status.is_paid:
            self._on_paid(updated)
        log.info("payment_state", payment_id=payment.payment_id, before=payment.status.value, after=after.value)
        return True

    def _on_paid(self, payment: PaymentRecord) -> None:
        if payment.donation_amount > 0 and self._donation_account:
            self._repo.enqueue(DONATION_TOPIC, f"donation:{payment.payment_id}", payment.payment_id, {
                "payment_id": payment.payment_id, "amount": payment.donation_amount,
                "currency": payment.currency, "destination": self._donation_account,
                "partner": self._donation_partner, "order_id": payment.order_id,
            })
