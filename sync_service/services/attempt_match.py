"""Whether what a provider says is about the attempt it would move: pure, no I/O.

A valid signature proves that the provider sent an event, not that the event
is about our attempt: another integration on the same account, a live event
on a test deployment or a connected account's event can carry our
`payment_id` in its metadata. Metadata only finds the candidate attempt; the
object's id must be the one we created (the Checkout Session) or learnt from
it (its PaymentIntent), and its amount, currency, mode and account must be
the attempt's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tablepay_domain.money import Money
from tablepay_domain.payment_state import PaymentStatus

from ..models import PaymentRecord
from ..providers.base import Observation

# Statuses in which the guest's money may have been taken (or held): a mismatch there needs a person.
MONEY_MAY_BE_TAKEN = frozenset({PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.PAID})
ATTENTION_PREFIX = "provider_mismatch"
MAX_ATTENTION = 2000


class Link(Enum):
    OURS = "ours"  # the attempt's own object
    UNKNOWN = "unknown"  # an intent or charge while the attempt's intent is not learnt yet: ask for our session
    FOREIGN = "foreign"  # another object


@dataclass(frozen=True)
class Match:
    link: Link
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.link is Link.OURS and not self.differences


def _link(payment: PaymentRecord, obs: Observation) -> tuple[Link, str | None]:
    if obs.subject == "checkout_session":
        if payment.provider_session_id and obs.session_id == payment.provider_session_id:
            return Link.OURS, None
        return Link.FOREIGN, (
            f"checkout session {obs.session_id} is not this attempt's ({payment.provider_session_id or 'none opened'})"
        )
    ours = payment.provider_payment_intent
    if ours:
        if obs.payment_intent == ours:
            return Link.OURS, None
        return Link.FOREIGN, f"payment intent {obs.payment_intent} is not this attempt's ({ours})"
    if payment.provider_session_id:
        return Link.UNKNOWN, None
    return Link.FOREIGN, f"payment intent {obs.payment_intent}, but this attempt has no checkout session"


def match(payment: PaymentRecord, obs: Observation, *, livemode: bool) -> Match:
    """How `obs` relates to `payment`. The service's own observations (no subject) always match."""
    if obs.subject is None:
        return Match(Link.OURS, ())
    link, why = _link(payment, obs)
    differences = [why] if why else []
    if obs.livemode is not None and obs.livemode != livemode:
        differences.append(
            f"a {'live' if obs.livemode else 'test'} mode object, but this service runs in "
            f"{'live' if livemode else 'test'} mode"
        )
    if obs.account:
        differences.append(f"sent for the connected account {obs.account}")
    if obs.currency != payment.currency:
        differences.append(f"currency {obs.currency or 'missing'}, not {payment.currency}")
    if obs.amount_total != payment.amount_total:
        amount = "missing" if obs.amount_total is None else _amount_text(obs.amount_total, obs.currency)
        differences.append(f"amount {amount}, not {_amount_text(payment.amount_total, payment.currency)}")
    return Match(link, tuple(differences))


def _amount_text(amount: int, currency: str | None) -> str:
    """'0.01 EUR' for a person to read; the minor units when the currency is not one we know."""
    try:
        return str(Money(amount, currency or ""))
    except (KeyError, ValueError):
        return f"{amount} minor units of {currency or 'no currency'}"


def takes_money(obs: Observation) -> bool:
    """A success (or a hold) that, if real, means the guest paid something."""
    return obs.status in MONEY_MAY_BE_TAKEN


def attention_note(what: str, differences: tuple[str, ...], existing: str | None) -> str:
    """What the manager reads: what differs, that nothing was applied, and what to do.

    `what` names the news: "a checkout.session.completed event", "the checkout as retrieved (refresh)".
    """
    detail = "; ".join(differences)
    if existing and detail in existing:
        return existing  # the same news again (a retry, the next sweep): one note
    note = (
        f"{ATTENTION_PREFIX}: {what} about this payment does not match it ({detail}). It was not applied: "
        "nothing was booked in the POS or sent to the donation partner. Look the payment up in the "
        "provider's dashboard; if money was taken, refund it there and settle the order by hand."
    )
    return (f"{existing} | {note}" if existing else note)[:MAX_ATTENTION]
