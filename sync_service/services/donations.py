"""Route a paid donation to the partner charity with a provider transfer, and take it back on a refund.

A refund comes off the restaurant's share (dishes and tip) first; only the
part that reaches into the donation reverses the partner's transfer, by
exactly that part. Otherwise the restaurant would pay the charity's share
of a refunded payment out of its own pocket.
"""

from __future__ import annotations

from typing import Any

from ..providers.base import PaymentProvider
from ..storage.repository import Repository


class DonationTransfers:
    """Outbox handler for `donation.transfer`: one transfer per payment, ever."""

    def __init__(self, repo: Repository, provider: PaymentProvider) -> None:
        self._repo = repo
        self._provider = provider

    async def __call__(self, job: dict[str, Any]) -> None:
        payment_id = job["payment_id"]
        if self._repo.transfers_for(payment_id):
            return
        payment = self._repo.payment(payment_id)
        if payment is None or not payment.provider_payment_intent:
            raise LookupError(f"payment {payment_id} has no provider payment yet")
        transfer_id = await self._provider.transfer_donation(
            amount=job["amount"],
            currency=job["currency"],
            destination=job["destination"],
            payment_intent=payment.provider_payment_intent,
            # The provider dedupes on this key: a retried job never moves the money twice.
            idempotency_key=f"tablepay-donation-{payment_id}",
            metadata={"payment_id": payment_id, "order_id": job["order_id"], "partner": job["partner"]},
        )
        with self._repo.transaction():
            self._repo.record_transfer(
                payment_id, transfer_id, job["partner"], job["destination"], job["amount"], job["currency"]
            )


def donation_refunded(amount_total: int, donation_amount: int, amount_refunded: int) -> int:
    """How much of the donation a refund of `amount_refunded` covers (the restaurant's share goes first)."""
    return min(donation_amount, max(0, amount_refunded - (amount_total - donation_amount)))


class DonationReversals:
    """Outbox handler for `donation.reversal`: bring the transfer's reversed total up to the target, once."""

    def __init__(self, repo: Repository, provider: PaymentProvider) -> None:
        self._repo = repo
        self._provider = provider

    async def __call__(self, job: dict[str, Any]) -> None:
        payment_id, target = job["payment_id"], int(job["reversed_total"])
        transfers = self._repo.transfers_for(payment_id)
        if not transfers:
            raise LookupError(f"payment {payment_id} has no donation transfer to reverse yet")
        transfer_id = transfers[0]["transfer_id"]
        payment = self._repo.payment(payment_id)
        assert payment is not None and payment.provider_payment_intent, payment_id  # a transfer needs both
        intent = payment.provider_payment_intent
        already = await self._provider.transfer_reversed(transfer_id, payment_intent=intent)
        if already < target:
            await self._provider.reverse_transfer(
                transfer_id,
                payment_intent=intent,
                amount=target - already,
                idempotency_key=f"tablepay-donation-reversal-{payment_id}-{target}",
                metadata={"payment_id": payment_id},
            )
