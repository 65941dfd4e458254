"""Recover events missed during an outage longer than the provider's webhook retries.

Lists the provider's events since a moment (Stripe's Events API holds 30
days) and feeds each through the same path as a webhook: an event already
seen is a duplicate and has no second effect, so a backfill can run any
number of times, also while the service runs.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass

import structlog

from ..providers.base import PaymentProvider
from .payment_events import PaymentEvents

log = structlog.get_logger(__name__)

MAX_SECONDS = 30 * 86400  # what Stripe keeps
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """'90m', '6h', '2d', '1d12h' -> seconds; at most 30 days."""
    parts = re.fullmatch(r"(?:\d+[smhd])+", text.strip().lower())
    if not parts:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h, 2d or 1d12h")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"(\d+)([smhd])", text.lower()))
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError("the duration must be more than 0 and at most 30d (Stripe keeps events for 30 days)")
    return seconds


@dataclass(frozen=True)
class BackfillReport:
    listed: int
    outcomes: dict[str, int]  # applied, unchanged, duplicate, unmatched, ignored

    def __str__(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items())) or "nothing"
        return f"{self.listed} events listed: {counts}"


async def backfill(provider: PaymentProvider, events: PaymentEvents, since_seconds: int) -> BackfillReport:
    notices = await provider.events_since(int(time.time()) - since_seconds)
    outcomes = Counter([await events.accept_notice(notice) for notice in notices])
    report = BackfillReport(len(notices), dict(outcomes))
    log.info("backfill", since_seconds=since_seconds, listed=report.listed, **report.outcomes)
    return report
