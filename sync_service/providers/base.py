"""What the service needs from a payment provider, whatever the provider.

Stripe signs a webhook that carries the event; Mollie only sends an id that
must be fetched. Both end up as a `ProviderNotice` holding an `Observation`:
the provider's current view of one payment, which the state machine applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from tablepay_domain.order import Order
from tablepay_domain.payment_state import PaymentStatus


class ProviderError(RuntimeError):
    """The provider could not be reached or refused the request."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class CheckoutNotStoppable(ProviderError):
    """The provider will not stop this checkout now (Mollie: the payment is not cancelable); the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False, code="not_cancelable")


class InvalidWebhook(ValueError):
    """Bad signature, stale timestamp or malformed body: answer 400, change nothing.

    `authenticated`: the signature was good (the provider sent it) but the event cannot be read;
    such a request is kept whole, not under the caps and budget for forged ones.
    """

    def __init__(self, message: str, *, authenticated: bool = False) -> None:
        super().__init__(message)
        self.authenticated = authenticated


class MalformedObject(ValueError):
    """A provider object with a field we refuse to compute with (an amount out of range, a wrong type)."""


@dataclass(frozen=True)
class HostedCheckout:
    session_id: str
    url: str
    expires_at: int
    amount_total: int


@dataclass(frozen=True)
class Observation:
    """What the provider says about one payment attempt right now."""

    status: PaymentStatus | None  # None: nothing that moves the state machine
    payment_id: str | None = None  # our id, from metadata: a hint to find the attempt, never proof
    session_id: str | None = None
    payment_intent: str | None = None
    charge: str | None = None
    amount_total: int | None = None  # the object's whole amount (session total, intent or charge amount)
    amount_refunded: int | None = None
    failure_reason: str | None = None
    # Which provider object this is ("checkout_session", "payment_intent", "charge"): its id must be the
    # attempt's before it moves anything. None: the service's own conclusion (a cancel, a failed create).
    subject: str | None = None
    currency: str | None = None  # ISO 4217, upper case
    livemode: bool | None = None
    account: str | None = None  # set when the provider sent it on behalf of another (connected) account
    amount_charged_back: int | None = None  # what the guest's bank took back after the payment (a chargeback)

    @property
    def can_move(self) -> bool:
        """Whether it says anything the state machine acts on (a status, a refunded or charged-back sum)."""
        return self.status is not None or self.amount_refunded is not None or self.amount_charged_back is not None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: int
    status: str  # the provider's word: pending, succeeded, failed, ...


@dataclass(frozen=True)
class ProviderNotice:
    event_id: str
    type: str
    observation: Observation
    payload: str
    # Set on the second look at an event whose object we could not place: its links were just
    # retrieved from the provider, so an object still not linked to the attempt is not the attempt's.
    links_checked: bool = False
    our_checkout: Observation | None = None  # what that retrieve said, applied together with the event
    # Set for a webhook: the request's headers (JSON), stored raw with its verdict.
    request_headers: str | None = None
    # The provider object fetched server-side for this notice (Mollie's webhook carries only an id), JSON.
    fetched: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    order: Order
    payment_id: str
    attempt: int
    success_url: str
    cancel_url: str
    return_url: str  # the success page by our payment id, for providers without a session placeholder (Mollie)
    expires_at: int
    idempotency_key: str
    donation_label: str


@dataclass(frozen=True)
class DonationReversal:
    """The part of a refund that comes out of the donation, taken back from the partner with the refund.

    Mollie takes a route back only inside a refund (`routingReversals`); Stripe reverses its transfer
    separately, once the refund's event arrives (services/donations.py), and ignores this.
    """

    amount: int
    destination: str  # the partner's account or organisation


class CheckoutReader(Protocol):
    """The part of a provider that placing an event needs: who we are, and our checkout as it is now."""

    name: str
    livemode: bool  # the mode of our key: an object of the other mode is not ours

    async def observe_checkout(self, session_id: str) -> Observation:
        """Fetch the checkout server-side: the trustworthy confirmation."""
        ...


class PaymentProvider(Protocol):
    name: str
    livemode: bool

    async def aclose(self) -> None:
        """Release connections at shutdown."""

    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        """Create a hosted checkout; the same idempotency key never creates two."""

    async def observe_checkout(self, session_id: str) -> Observation:
        """Fetch the checkout server-side: the trustworthy confirmation."""

    async def expire_checkout(self, session_id: str) -> Observation:
        """Stop the checkout from being paid; returns what the provider then says."""

    def read_verified_event(self, payload: str) -> ProviderNotice:
        """The event in a webhook body whose signature was checked when it arrived (for a replay)."""
        ...

    async def replay_notice(self, payload: str) -> ProviderNotice:
        """A stored webhook body read again: Stripe's carries its event, Mollie's id is fetched anew."""
        ...

    async def read_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotice:
        """Verify and interpret a webhook, or raise InvalidWebhook."""

    async def transfer_donation(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        payment_intent: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> str:
        """Move a donation to the partner's account; returns the transfer id."""

    async def refund(
        self,
        *,
        payment_intent: str,
        amount: int,
        idempotency_key: str,
        reason: str | None,
        metadata: Mapping[str, str],
        donation_reversal: DonationReversal | None = None,
    ) -> RefundResult:
        """Refund part or all of a paid payment; the state follows from the provider's events."""
        ...

    async def transfer_reversed(self, transfer_id: str, *, payment_intent: str) -> int:
        """How much of a transfer has been taken back so far."""
        ...

    async def reverse_transfer(
        self, transfer_id: str, *, payment_intent: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> str:
        """Take back part of a transfer from the connected account; returns the reversal's id."""
        ...

    async def events_since(self, created_gte: int) -> list[ProviderNotice]:
        """Every event the provider still holds from `created_gte` (Unix time) on, oldest first."""
        ...

    def takes_currency(self, currency: str) -> bool:
        """Whether the provider takes payments in `currency` (refused before an attempt is stored)."""
        ...

    def minimum_charge(self, currency: str) -> int | None:
        """The smallest total the provider charges in `currency` (minor units), or None when unknown.

        The checkout refuses a smaller order before storing an attempt, so the waiter reads why
        instead of a provider error.
        """
        ...
