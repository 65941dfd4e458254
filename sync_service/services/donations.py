"""Route a paid donation to the partner charity with a provider transfer."""

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
            amount=job["amount"], currency=job["currency"], destination=job["destination"],
            payment_intent=payment.provider_payment_intent,
            # The provider dedupes on this key: a retried job never moves the money twice.
            idempotency_key=f"tablepay-donation-{payment_id}",
            metadata={"payment_id": payment_id, "order_id": job["order_id"], "partner": job["partner"]},
        )
        with self._repo.transaction():
            self._repo.record_transfer(payment_id, transfer_id, job["partner"], job["destination"],
                                       job["amount"], job["currency"])
