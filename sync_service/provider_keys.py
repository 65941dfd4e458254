"""Where a provider's keys may go: a live key only to the provider itself (settings.py and checks.py)."""

from __future__ import annotations

import re

STRIPE_API = "https://api.stripe.com"
MOLLIE_API = "https://api.mollie.com"
MOLLIE_KEY = re.compile(r"(test|live)_\w+")
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def is_stripe_itself(api_base: str | None) -> bool:
    """Unset, or Stripe's own API: anything else (the sandbox, a mock, a proxy) is not where real payments go."""
    return api_base is None or api_base.lower() == STRIPE_API


def live_key_misdirected(secret_key: str, api_base: str | None) -> str | None:
    """Why a live key must not be used with this API base, or None when it may.

    A live key sent to a sandbox, a mock or a typo'd host leaks the restaurant's real
    Stripe account to whoever answers there; Stripe itself is the only place it may go.
    """
    if not secret_key.startswith(LIVE_KEY_PREFIXES) or is_stripe_itself(api_base):
        return None
    return (
        f"STRIPE_SECRET_KEY is a live key ({secret_key[:8]}...) but STRIPE_API_BASE is {api_base}: "
        f"a live key is only sent to {STRIPE_API}; unset STRIPE_API_BASE, or use a sk_test_ key"
    )


def mollie_live_key_misdirected(api_key: str, api_base: str | None) -> str | None:
    """Why a live Mollie key must not go to this base (anywhere but api.mollie.com), or None."""
    if not api_key.startswith("live_") or api_base is None or api_base.lower() == MOLLIE_API:
        return None
    return (
        f"MOLLIE_API_KEY is a live key ({api_key[:8]}...) but MOLLIE_API_BASE is {api_base}: a live key is only "
        f"sent to {MOLLIE_API}; unset MOLLIE_API_BASE, or use a test_ key"
    )
