"""Refunds, a manager's action: checked here, made by the provider, reflected from its events.

The payment turns PartiallyRefunded or Refunded only when the provider's
`charge.refunded` event says so, never because the request was accepted.
Each request carries an idempotency key to the provider, derived from the
kiosk's `Idempotency-Key`, so a retry after a lost answer is the same refund.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import structlog

from tablepay_domain.money import Money
from tablepay_domain.payment_state import PaymentStatus

from ..models import PaymentRecord
from ..providers.base import DonationReversal, PaymentProvider, ProviderError
from ..storage.refund_repository import RefundRepository
from ..storage.repository import Repository
from .checkout import CheckoutError, Conflict, KeyedLocks, NotFound, ProviderUnavailable, Unprocessable
from .donations import donation_refunded

log = structlog.get_logger(__name__)

REFUNDABLE = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)


class NotRefundable(Conflict):
    code = "not_refundable"


class RefundInProgress(Conflict):
    code = "refund_in_progress"


class RefundTooLarge(CheckoutError):
    status_code, code = 422, "refund_too_large"


class InvalidRefund(Unprocessable):
    code = "invalid_refund"


class RefundService:
    def __init__(self, repo: Repository, refunds: RefundRepository, provider: PaymentProvider) -> None:
        self._repo, self._refunds, self._provider = repo, refunds, provider
        self._locks = KeyedLocks()

    def _donation_reversal(self, payment: PaymentRecord, amount: int) -> DonationReversal | None:
        """The part of this refund that reaches into a routed donation (the restaurant's share goes first)."""
        transfers = self._repo.transfers_for(payment.payment_id)
        if not (payment.donation_amount and transfers):
            return None
        before = max(payment.amount_refunded, self._refunds.requested(payment.payment_id))
        total, donation = payment.amount_total, payment.donation_amount
        part = donation_refunded(total, donation, before + amount) - donation_refunded(total, donation, before)
        return DonationReversal(part, str(transfers[0]["destination"])) if part > 0 else None

    def left_to_refund(self, payment_id: str) -> int:
        payment = self._repo.payment(payment_id)
        assert payment is not None
        return payment.amount_total - max(payment.amount_refunded, self._refunds.requested(payment_id))

    async def refund(
        self, payment_id: str, *, kiosk_id: str, amount: int, reason: str | None, idempotency_key: str | None
    ) -> tuple[int, dict[str, Any]]:
        request_hash = hashlib.sha256(json.dumps([payment_id, amount, reason]).encode()).hexdigest()
        async with self._locks.hold(payment_id):
            # Several instances: one refund of a payment at a time, whichever instance it reaches.
            with self._repo.only_one_instance(f"refund:{payment_id}") as mine:
                if not mine:
                    raise RefundInProgress(
                        "Another refund of this payment is being made right now; try again in a moment."
                    )
                return await self._refund(payment_id, kiosk_id, amount, reason, idempotency_key, request_hash)

    async def _refund(
        self,
        payment_id: str,
        kiosk_id: str,
        amount: int,
        reason: str | None,
        idempotency_key: str | None,
        request_hash: str,
    ) -> tuple[int, dict[str, Any]]:
        if idempotency_key:
            stored = self._repo.idempotent_response(kiosk_id, idempotency_key)
            if stored:
                if stored[0] != request_hash:
                    raise InvalidRefund("this Idempotency-Key was already used for a different refund")
                return stored[1], stored[2]
        payment = self._repo.payment(payment_id)
        if payment is None or payment.kiosk_id != kiosk_id:
            raise NotFound(f"no payment {payment_id}")
        if amount <= 0:
            raise InvalidRefund("The refund amount must be more than zero.")
        if payment.status not in REFUNDABLE or not payment.provider_payment_intent:
            raise NotRefundable(
                f"Only a paid payment can be refunded; this one is {payment.status.value}.",
                status=payment.status.value,
            )
        left = self.left_to_refund(payment_id)
        if amount > left:
            raise RefundTooLarge(
                f"Only {Money(left, payment.currency)} is left to refund on this payment.", left_to_refund=left
            )
        key = idempotency_key or str(uuid.uuid4())
        provider_key = "tablepay-refund-" + hashlib.sha256(f"{payment_id}:{kiosk_id}:{key}".encode()).hexdigest()
        try:
            result = await self._provider.refund(
                payment_intent=payment.provider_payment_intent,
                amount=amount,
                idempotency_key=provider_key,
                reason=reason,
                metadata={"payment_id": payment_id, "order_id": payment.order_id},
                donation_reversal=self._donation_reversal(payment, amount),
            )
        except ProviderError as exc:
            log.warning("refund_failed", payment_id=payment_id, amount=amount, error=str(exc))
            raise ProviderUnavailable(f"the payment provider did not refund: {exc}") from exc
        body = {
            "refund_id": result.refund_id,
            "payment_id": payment_id,
            "amount": result.amount,
            "currency": payment.currency,
            "status": result.status,
            "left_to_refund": left - result.amount,
        }
        with self._repo.transaction():
            self._refunds.add(
                refund_id=result.refund_id,
                payment_id=payment_id,
                amount=result.amount,
                currency=payment.currency,
                status=result.status,
                reason=reason,
                idempotency_key=provider_key,
                kiosk_id=kiosk_id,
            )
            if idempotency_key:
                self._repo.save_idempotent_response(kiosk_id, idempotency_key, request_hash, 202, body)
        log.info("refund_requested", payment_id=payment_id, refund_id=result.refund_id, amount=result.amount)
        return 202, body
