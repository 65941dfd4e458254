"""Deliver partners' webhooks: signed (Standard Webhooks), retried on a schedule, never in anyone's way.

Its own worker, beside the general outbox's: a receiver that answers slowly (up to the timeout) holds
only its own deliveries. Each partner has at most `concurrency` deliveries in flight; claims are made
partner by partner and leased on both engines, so a row in flight is never claimed twice and a
partner's backlog never fills a claim. The POS and donations never wait on any of it.

Outcomes (docs/partners.md): 2xx delivered; 410 disables the endpoint at once (its pending
deliveries are given up, listable and replayable); anything else (a timeout, a refused connection,
5xx, 429, 3xx since redirects are not followed, other 4xx) is retried on SCHEDULE, ±10 %, or later
when the receiver's Retry-After asks for it; after the last try the delivery is given up. An
endpoint failing for 5 days is disabled.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from standardwebhooks.webhooks import Webhook

from ..models import utc_now
from ..storage.partner_rows import PartnerRecord
from ..storage.repository import Repository
from .outbox import WorkSignal
from .partners import Partners, UrlPolicy

log = structlog.get_logger(__name__)

# Seconds after a failed try until the next one (Standard Webhooks' example): ten tries over ~75.6 h.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.1
FAILING_DISABLES_AFTER = 5 * 86400
USER_AGENT = "TablePay-Webhooks/1"


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's delay (seconds, or an HTTP date), capped at a day; None when absent or bad."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), 86400.0)


def signature_header(secrets: list[str], event_id: str, timestamp: int, body: str) -> str:
    """`v1,<sig>` per secret, space-separated (a receiver accepts any one)."""
    at = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(event_id, at, body) for secret in secrets)


class PartnerWebhookWorker:
    def __init__(
        self,
        repo: Repository,
        partners: Partners,
        policy: UrlPolicy,
        *,
        work: WorkSignal,
        timeout: float,
        concurrency: int,
        time_factor: float = 1.0,
        keep_days: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._repo = repo
        self._partners = partners
        self._policy = policy
        self._work = work
        self._timeout = timeout
        self._concurrency = concurrency
        self._factor = time_factor
        self._keep_seconds = keep_days * 86400
        self._lease = timeout + 30
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport)
        self._in_flight: dict[str, set[asyncio.Task[None]]] = {}
        self._purged_at = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    def wake(self) -> None:
        self._work.notify()

    def start_due(self) -> int:
        """Start the deliveries due now that fit each partner's concurrency; returns how many started."""
        now = time.time()
        started = 0
        for name in self._repo.partners_due(now):
            running = self._in_flight.setdefault(name, set())
            room = self._concurrency - len(running)
            if room <= 0:
                continue
            for row in self._repo.claim_partner_deliveries(name, now, room, self._lease):
                task = asyncio.create_task(self._deliver(row))
                running.add(task)
                task.add_done_callback(running.discard)
                started += 1
        return started

    async def drain(self) -> int:
        """Deliver everything due now and wait for it (tests and the CLI drive the worker by hand)."""
        total = 0
        while started := self.start_due():
            total += started
            await asyncio.gather(*(t for tasks in self._in_flight.values() for t in tasks))
        return total

    async def run(self) -> None:
        while True:
            try:
                self.start_due()
                self._purge()
            except Exception:
                log.exception("partner_webhook_worker_error")
            due = self._repo.next_partner_delivery_due()
            pause = 0.5 if due is None else min(0.5, max(0.01, due - time.time()))
            await self._work.wait(pause)

    def _purge(self) -> None:
        if time.time() - self._purged_at < 3600:
            return
        self._purged_at = time.time()
        cutoff = datetime.now(UTC) - timedelta(seconds=self._keep_seconds)
        with self._repo.transaction():
            self._repo.purge_partner_deliveries(cutoff.isoformat(timespec="seconds").replace("+00:00", "Z"))

    async def _deliver(self, row: dict[str, Any]) -> None:
        payload = row["payload"]
        partner = self._repo.partner(payload["partner"])
        try:
            if partner is None:
                self._finish(row, "dead", "partner removed")
                return
            if partner.disabled_at is not None:
                self._finish(row, "dead", f"endpoint disabled: {partner.disabled_reason}")
                return
            status, error, retry_after = await self._post(partner, row)
            self._judge(partner, row, status, error, retry_after)
        except Exception as exc:
            # Never lose a row to a bug here: it is retried like a failed delivery once its lease ends.
            log.exception(
                "partner_webhook_error", partner=payload["partner"], event_id=row["dedupe_key"], error=str(exc)
            )

    async def _post(self, partner: PartnerRecord, row: dict[str, Any]) -> tuple[int | None, str | None, float | None]:
        """(HTTP status or None, error or None when 2xx, the receiver's Retry-After)."""
        refusal = await self._policy.refusal_now(partner.webhook_url)
        if refusal:
            return None, f"webhook URL refused: {refusal}", None
        body: str = row["payload"]["body"]
        now = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": row["dedupe_key"],
            "webhook-timestamp": str(now),
            "webhook-signature": signature_header(
                self._partners.signing_secrets(partner, now), row["dedupe_key"], now, body
            ),
        }
        if partner.bearer_token:
            headers["authorization"] = f"Bearer {partner.bearer_token}"
        try:
            # httpx's timeout bounds each read, not the attempt: a receiver sending a byte now and then would
            # hold the delivery past its lease. The answer's body is never read (its status says it all).
            async with asyncio.timeout(self._timeout):
                request = self._http.build_request("POST", partner.webhook_url, content=body.encode(), headers=headers)
                response = await self._http.send(request, stream=True)
                await response.aclose()
        except (httpx.TimeoutException, TimeoutError) as exc:
            return None, f"timeout after {self._timeout:g} s ({type(exc).__name__})", None
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}", None
        if 200 <= response.status_code < 300:
            return response.status_code, None, None
        return (
            response.status_code,
            f"HTTP {response.status_code}",
            retry_after_seconds(response.headers.get("retry-after")),
        )

    def _judge(
        self,
        partner: PartnerRecord,
        row: dict[str, Any],
        status: int | None,
        error: str | None,
        retry_after: float | None,
    ) -> None:
        now = time.time()
        if error is None:
            with self._repo.transaction():
                self._repo.partner_succeeded(partner.name)
                recorded = self._repo.partner_outcome(
                    row["id"], row["lease_token"], state="done", error=None, next_at=now
                )
            log.info(
                "partner_webhook_delivered",
                partner=partner.name,
                event_id=row["dedupe_key"],
                status=status,
                fresh=recorded,
            )
            return
        if status == 410:
            self._disable(partner.name, "the receiver answered 410 Gone", row, error)
            return
        attempts = int(row["attempts"]) + 1
        dead = attempts > len(SCHEDULE)
        delay = 0.0 if dead else SCHEDULE[attempts - 1] * self._factor * random.uniform(1 - JITTER, 1 + JITTER)
        if retry_after is not None:
            delay = max(delay, retry_after)
        with self._repo.transaction():
            since = self._repo.partner_failed(partner.name, now)
            self._repo.partner_outcome(
                row["id"], row["lease_token"], state="dead" if dead else "pending", error=error, next_at=now + delay
            )
        log.warning(
            "partner_webhook_failed",
            partner=partner.name,
            event_id=row["dedupe_key"],
            attempts=attempts,
            given_up=dead,
            error=error,
        )
        if since is not None and now - since >= FAILING_DISABLES_AFTER * self._factor:
            self._disable(partner.name, f"every delivery failed for 5 days (since {since:.0f})", None, None)

    def _disable(self, name: str, reason: str, row: dict[str, Any] | None, error: str | None) -> None:
        with self._repo.transaction():
            self._repo.update_partner(name, disabled_at=utc_now(), disabled_reason=reason)
            if row is not None:
                self._repo.partner_outcome(
                    row["id"], row["lease_token"], state="dead", error=error, next_at=time.time()
                )
            parked = self._repo.park_partner_deliveries(name, f"endpoint disabled: {reason}")
        log.warning("partner_endpoint_disabled", partner=name, reason=reason, given_up=parked)

    def _finish(self, row: dict[str, Any], state: str, error: str) -> None:
        with self._repo.transaction():
            self._repo.partner_outcome(row["id"], row["lease_token"], state=state, error=error, next_at=time.time())

    def replay(self, row_id: int) -> dict[str, Any] | None:
        """A given-up delivery back in line (a manager's or operator's action). The endpoint is enabled
        again: replaying says the receiver works now. None: no given-up delivery of that id."""
        with self._repo.transaction():
            found = self._repo.partner_deliveries(failed=True, row_id=row_id)
            if not found or not self._repo.replay_partner_delivery(row_id):
                return None
            self._repo.update_partner(found[0]["partner"], disabled_at=None, disabled_reason=None, failing_since=None)
        self.wake()
        return self._repo.partner_deliveries(row_id=row_id)[0]
