"""Apply what a provider says about a payment: the one place state changes.

Each change runs in one transaction: the event id is recorded (a repeat has
no second effect), the state machine decides, and the payment row, the feed
event and any outbox work are written together.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from tablepay_domain.payment_state import PaymentStatus, advance, refund_status

from ..models import PaymentRecord, utc_now
from ..providers.base import Observation, ProviderNotice
from ..storage.group_commit import GroupCommitter
from ..storage.repository import Repository
from .feed import FeedNotifier

log = structlog.get_logger(__name__)

DONATION_TOPIC = "donation.transfer"


class PaymentEvents:
    def __init__(self, repo: Repository, notifier: FeedNotifier, *, provider: str,
                 donation_account: str | None, donation_partner: str) -> None:
        self._repo = repo
        self._notifier = notifier
        self._committer = GroupCommitter(repo)
        self._provider = provider
        self._donation_account = donation_account
        self._donation_partner = donation_partner

    async def accept_notice(self, notice: ProviderNotice) -> str:
        """Apply a verified provider event once.

        Returns 'applied', 'unchanged', 'duplicate', 'unmatched' (a payment we do
        not know) or 'ignored' (an event that says nothing about a payment).
        The answer comes after the commit, so a 200 always means stored.
        """
        outcome, before, after = await self._committer.run(lambda: self._accept(notice))
        if after is not None:
            self._notifier.notify(after.kiosk_id)
        log.info("webhook", event_id=notice.event_id, type=notice.type, outcome=outcome,
                 payment_id=before.payment_id if before else None,
                 status=f"{before.status.value}->{after.status.value}" if before and after else None)
        return outcome

    def _accept(self, notice: ProviderNotice) -> tuple[str, PaymentRecord | None, PaymentRecord | None]:
        if self._repo.event_seen(notice.event_id):
            return "duplicate", None, None
        obs = notice.observation
        payment = self._repo.find_payment(payment_id=obs.payment_id, session_id=obs.session_id,
                                          payment_intent=obs.payment_intent)
        updated = self._apply(payment, obs) if payment else None
        if payment is None:
            outcome = "unmatched" if obs.status else "ignored"
        else:
            outcome = "applied" if updated else "unchanged"
        self._repo.record_event(notice.event_id, self._provider, notice.type,
                                payment.payment_id if payment else None, outcome, notice.payload)
        return outcome, payment, updated

    def apply_observation(self, payment_id: str, obs: Observation, source: str) -> PaymentRecord:
        """Apply a server-side retrieve (refresh, reconcile, cancel); returns the payment as it now is."""
        with self._repo.transaction():
            payment = self._repo.payment(payment_id)
            assert payment is not None, payment_id
            updated = self._apply(payment, obs)
            self._repo.record_event(f"{source}:{payment_id}:{utc_now()}", self._provider, source, payment_id,
                                    "applied" if updated else "unchanged", "")
        if updated is None:
            return self._repo.payment(payment_id) or payment
        self._notifier.notify(updated.kiosk_id)
        log.info("payment_observed", source=source, payment_id=payment_id,
                 status=f"{payment.status.value}->{updated.status.value}")
        return updated

    def _apply(self, payment: PaymentRecord, obs: Observation) -> PaymentRecord | None:
        """Inside a transaction: move the payment forward if the observation allows.

        Returns the payment as written when its state changed, else None.
        """
        links = {column: value for column, value in (
            ("provider_session_id", obs.session_id), ("provider_payment_intent", obs.payment_intent),
            ("provider_charge", obs.charge)) if value and getattr(payment, column) is None}
        target, refunded = obs.status, payment.amount_refunded
        if obs.amount_refunded is not None:
            # Refund events may come out of order: the largest refunded sum is the newest.
            refunded = max(refunded, obs.amount_refunded)
            target = refund_status(payment.amount_total, refunded)
        transition = advance(payment.status, target) if target else None
        if transition is None or not transition.changed or (
                transition.after is payment.status and refunded == payment.amount_refunded):
            if links:
                self._repo.update_payment(payment.payment_id, **links)
            return None
        after, now = transition.after, utc_now()
        changes: dict[str, object] = {**links, "status": after, "amount_refunded": refunded, "updated_at": now}
        if after.is_paid and payment.paid_at is None:
            changes["paid_at"] = now
        if after is PaymentStatus.FAILED and obs.failure_reason:
            changes["failure_reason"] = obs.failure_reason
        if after is PaymentStatus.PAID and obs.amount_total not in (None, payment.amount_total):
            log.warning("amount_mismatch", payment_id=payment.payment_id, ours=payment.amount_total,
                        provider=obs.amount_total)
        self._repo.update_payment(payment.payment_id, **changes)
        updated = replace(payment, **changes)  # type: ignore[arg-type]
        self._repo.append_feed(updated)
        if after.is_paid and not payment.status.is_paid:
            self._on_paid(updated)
        return updated

    def _on_paid(self, payment: PaymentRecord) -> None:
        if payment.donation_amount > 0 and self._donation_account:
            self._repo.enqueue(DONATION_TOPIC, f"donation:{payment.payment_id}", payment.payment_id, {
                "payment_id": payment.payment_id, "amount": payment.donation_amount,
                "currency": payment.currency, "destination": self._donation_account,
                "partner": self._donation_partner, "order_id": payment.order_id,
            })
