"""How many rejected webhooks a source address may have stored: a token bucket per address.

A forged webhook costs the sender one request and us a row in
`webhook_requests`. Each source gets REJECTED_BURST stored rejections, then
REJECTED_PER_SECOND; past that its rejected requests are only counted. A
valid, signed webhook never asks this budget: Stripe is never rate-limited.

The table of sources is bounded (REJECTED_SOURCES). When it is full, the
least recently seen source is forgotten only if its bucket has refilled (it
lost nothing by being forgotten); otherwise newcomers share one overflow
bucket, so rotating through many addresses buys no more than one address.
IPv6 sources are counted per /64, the block one host usually holds.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable

REJECTED_BURST = 50  # rejected requests stored at once per source
REJECTED_PER_SECOND = 1.0  # and then this many per second
REJECTED_SOURCES = 4096  # sources remembered; more share the overflow bucket


def source_key(host: str | None) -> str:
    """The address an IPv4 client connects from, or the /64 an IPv6 client's address is in."""
    if not host:
        return "(unknown)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a Unix socket path or a name: one source
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens, self.at = tokens, at


class SourceBudget:
    def __init__(
        self,
        *,
        burst: int = REJECTED_BURST,
        per_second: float = REJECTED_PER_SECOND,
        max_sources: int = REJECTED_SOURCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst, self._rate, self._max, self._clock = float(burst), per_second, max_sources, clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._overflow = _Bucket(float(burst), clock())
        self.refused = 0  # rejected requests not stored, since start

    def take(self, host: str | None) -> bool:
        """Whether one more rejected request from `host` may be stored (and count it)."""
        now = self._clock()
        bucket = self._bucket(source_key(host), now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        self.refused += 1
        return False

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
            return bucket
        if len(self._buckets) >= self._max:
            oldest_key, oldest = next(iter(self._buckets.items()))
            if oldest.tokens + (now - oldest.at) * self._rate < self._burst:
                return self._overflow
            del self._buckets[oldest_key]
        bucket = self._buckets[key] = _Bucket(self._burst, now)
        return bucket

    def __len__(self) -> int:
        return len(self._buckets)
