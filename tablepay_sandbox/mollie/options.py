"""`MollieOptions`: the knobs of the Mollie fake that Mollie's API does not have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# How long an open payment lives, per method, in seconds. Mollie's former docs
# (payments/status-changes, "Expiry times") and the current iDEAL and cards pages agree;
# Mollie itself says to read `expiresAt` rather than predict it.
EXPIRY_BY_METHOD: Mapping[str, float] = MappingProxyType(
    {
        "ideal": 15 * 60,
        "paysafecard": 15 * 60,
        "creditcard": 30 * 60,
        "bancontact": 3600,
        "eps": 3600,
        "kbc": 3600,
        "belfius": 3600,
        "przelewy24": 3600,
        "mybank": 3600,
        "sofort": 2 * 3600,
        "paypal": 3 * 3600,
        "voucher": 3 * 3600,
        "klarna": 48 * 3600,
        "banktransfer": 12 * 24 * 3600,
    }
)


@dataclass(frozen=True)
class MollieOptions:
    """Passed to `create_app(..., mollie_options=...)`; tests shorten the timers."""

    # Mollie Connect split payments (`routing`, the Delayed Routing API). Off by default at Mollie
    # (its partner team enables it); on here, because the demo routes the donation.
    split_payments: bool = True
    connected_organizations: tuple[str, ...] = ("org_1RedCross",)
    # Mollie documents `isCancelable` for methods like bank transfer ("while open"); open iDEAL and
    # card payments answer false. The sandbox's default is the bank-transfer behaviour.
    cancelable_while_open: bool = True
    uncancelable_methods: tuple[str, ...] = ()
    # Expiry of an open payment without a `method` is undocumented: the sandbox takes the shortest
    # documented session (iDEAL's 15 minutes), so it never outlives a real one.
    default_expiry_seconds: float = 15 * 60
    method_expiry_seconds: Mapping[str, float] = field(default_factory=lambda: EXPIRY_BY_METHOD)
    # Whether queued/pending refunds already count in `amountRefunded` (and leave `amountRemaining`).
    # Mollie's docs do not say outright; a new refund reserves its amount at once (a second refund
    # over the rest is refused), so the default counts them. Refund checks always count them.
    pending_refunds_count: bool = True
    # Mollie's webhook retry schedule, multiplied by this (tests use a tiny factor).
    retry_time_factor: float = 1.0
    webhook_timeout: float = 15.0  # Mollie's per-call timeout: a 200 after 16 s still fails
