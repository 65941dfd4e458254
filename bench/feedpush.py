"""Feed push latency: from writing a webhook to a long-polling kiosk holding the event.

Both clocks are the same `time.perf_counter()` in this process, so the figure
is end to end: webhook parse and transaction, the notifier waking the parked
poll, the feed query and the HTTP answer to the kiosk.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field

from .loadgen import HOST, RESPONSE_TIMEOUT_SECONDS, read_response, request

POLL_WAIT_SECONDS = 30


@dataclass
class PushResult:
    latencies: list[float] = field(default_factory=list)  # seconds, one per event the poller received
    webhook_latencies: list[float] = field(default_factory=list)  # the webhook's own round trip, for contrast
    # from the webhook's answer (its COMMIT done) to the poll's answer: with `poll_port` another instance's push
    from_answer: list[float] = field(default_factory=list)
    sent: int = 0
    webhook_statuses: Counter[int] = field(default_factory=Counter)
    poll_errors: list[str] = field(default_factory=list)
    polls: int = 0

    @property
    def missing(self) -> int:
        return self.sent - len(self.latencies)

    def percentile_ms(self, q: float, webhook: bool = False, *, from_answer: bool = False) -> float:
        values = self.webhook_latencies if webhook else self.from_answer if from_answer else self.latencies
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _poll_request(port: int, token: str, after: int, wait: float) -> bytes:
    return (
        f"GET /v1/events?after={after}&wait={wait:g} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()


async def measure_push(
    port: int,
    token: str,
    webhooks: list[bytes],
    payment_ids: list[str],
    *,
    after: int,
    interval: float,
    time_limit: float,
    poll_port: int | None = None,
) -> tuple[PushResult, int]:
    """Send `webhooks` one every `interval` s while one kiosk long-polls; returns the result and the new cursor.

    `poll_port`: the kiosk long-polls another server than the one the webhooks go to (chain mode: instance B
    hears of instance A's commit through PostgreSQL's NOTIFY). `webhooks` must be built for `port`."""
    result = PushResult()
    sent_at: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    webhook_port, port = port, poll_port or port
    received_at: dict[str, float] = {}
    deadline = time.perf_counter() + time_limit
    cursor = after
    poll_reader, poll_writer = await asyncio.open_connection(HOST, port)

    # A first non-waiting poll checks the token and moves the cursor past anything already there.
    first = await request(poll_reader, poll_writer, _poll_request(port, token, cursor, 0))
    if first.status != 200:
        raise RuntimeError(f"feed poll refused: {first.status} {first.body[:200]!r}")
    cursor = int(json.loads(first.body)["next_after"])

    async def poller() -> None:
        nonlocal cursor
        # Bounded: every poll but a timed-out one brings at least one event.
        for _ in range(len(webhooks) + int(time_limit / POLL_WAIT_SECONDS) + 2):
            poll_writer.write(_poll_request(port, token, cursor, POLL_WAIT_SECONDS))
            response = await asyncio.wait_for(read_response(poll_reader), POLL_WAIT_SECONDS + RESPONSE_TIMEOUT_SECONDS)
            now = time.perf_counter()
            result.polls += 1
            if response.status != 200:
                result.poll_errors.append(f"{response.status}: {response.body[:200]!r}")
                return
            page = json.loads(response.body)
            for event in page["events"]:
                received_at.setdefault(event["payment_id"], now)
            cursor = int(page["next_after"])
            if len(received_at) >= len(webhooks) or now > deadline:
                return

    poll_task = asyncio.create_task(poller())
    await asyncio.sleep(0.2)  # let the poll park on the server before the first webhook
    reader, writer = await asyncio.open_connection(HOST, webhook_port)
    try:
        start = time.perf_counter()
        for i, (data, payment_id) in enumerate(zip(webhooks, payment_ids, strict=True)):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() > deadline or poll_task.done():
                break
            sent_at[payment_id] = time.perf_counter()
            result.sent += 1
            response = await request(reader, writer, data)
            answered_at[payment_id] = time.perf_counter()
            result.webhook_latencies.append(answered_at[payment_id] - sent_at[payment_id])
            result.webhook_statuses[response.status] += 1
        # The last events may still be on their way to the poller.
        await asyncio.wait({poll_task}, timeout=max(0.1, min(5.0, deadline - time.perf_counter())))
        if not poll_task.done():
            result.poll_errors.append(f"poller still waiting for {result.sent - len(received_at)} events")
    finally:
        writer.close()
        if not poll_task.done():
            poll_task.cancel()
        try:
            await poll_task
        except asyncio.CancelledError:
            pass
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            result.poll_errors.append(f"{type(exc).__name__}: {exc}")
        poll_writer.close()
    result.latencies = [received_at[p] - sent_at[p] for p in sent_at if p in received_at]
    # Can be below 0: the poll's answer may come in before the webhook's own (both follow the same COMMIT).
    result.from_answer = [received_at[p] - answered_at[p] for p in answered_at if p in received_at]
    return result, cursor
