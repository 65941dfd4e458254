"""A provider's checkout as recorded JSON: what PaymentEvents retrieves to learn an attempt's intent.

Stripe sits outside the machine; the tests that drive the state core without HTTP answer its
retrieve from a recorded Checkout Session (the same shape as Stripe's, see the sandbox's objects).
"""

from __future__ import annotations

from typing import Any

from sync_service.providers.base import Observation
from sync_service.providers.stripe_gateway import observation_from_session


class RecordedCheckout:
    name = "stripe"

    def __init__(self, session: dict[str, Any] | None = None, *, livemode: bool = False) -> None:
        self.session = session
        self.livemode = livemode
        self.retrieved: list[str] = []

    async def observe_checkout(self, session_id: str) -> Observation:
        self.retrieved.append(session_id)
        assert self.session is not None and self.session["id"] == session_id, session_id
        return observation_from_session(self.session)
