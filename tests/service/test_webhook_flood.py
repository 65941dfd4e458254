"""Forged webhooks cost us little: a bounded head of each is kept, within byte caps, and each
source address has a budget of stored rejections (item 1 of issue 11)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from pathlib import Path

import httpx

from sync_service.api.source_budget import REJECTED_BURST
from sync_service.services.feed import FeedNotifier
from sync_service.services.payment_events import (
    REJECTED_KEPT_BYTES,
    REJECTED_TRIM_BYTES,
    PaymentEvents,
    RejectedRequest,
)
from sync_service.storage.db import open_database
from sync_service.storage.repository import Repository
from tests.service.test_webhooks import _paid_event_body, sign
from tests.support.harness import Harness
from tests.support.recorded_checkout import RecordedCheckout

# A rejected row: a 1 KiB head, four kept headers of at most 300 characters (2 bytes each at worst
# in JSON), a reason of at most 300 characters, the hash.
MAX_ROW_BYTES = 1024 + 4 * (2 * 300 + 32) + 300 + 64
ROWS_BYTES = (
    "SELECT coalesce(sum(length(CAST(body AS BLOB)) + length(CAST(headers AS BLOB)) "
    "+ coalesce(length(CAST(error AS BLOB)), 0) + coalesce(length(body_sha256), 0)), 0), count(*) "
    "FROM webhook_requests WHERE verdict = 'rejected'"
)


def client_from(address: str) -> httpx.Client:
    """A client whose connections come from `address` (any of 127/8 is this machine)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def forge(client: httpx.Client, h: Harness, body: bytes, signature: str = "t=1,v1=00") -> httpx.Response:
    return client.post(
        f"{h.service.url}/webhooks/stripe",
        content=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )


def rejected_rows(h: Harness, marker: bytes) -> list[sqlite3.Row]:
    with h.db() as conn:
        conn.row_factory = sqlite3.Row
        return [
            r
            for r in conn.execute("SELECT * FROM webhook_requests WHERE verdict = 'rejected' ORDER BY id")
            if marker in bytes(r["body"])
        ]


def test_a_flood_of_forgeries_leaves_the_table_under_its_byte_bound(harness: Harness) -> None:
    """300 forged requests of 256 KiB, one in ten oversize (600 KiB), from 10 addresses: 90 MB sent."""
    big, oversize = b"{" + os.urandom(128 * 1024).hex().encode(), b"{" + os.urandom(300 * 1024).hex().encode()
    statuses: list[int] = []
    for n in range(10):
        with client_from(f"127.0.0.{10 + n}") as client:
            statuses += [forge(client, harness, oversize if i % 10 == 0 else big).status_code for i in range(30)]
    assert set(statuses) == {400}  # 30 from each address: within each one's budget, all kept
    with harness.db() as conn:
        stored, rows = conn.execute(ROWS_BYTES).fetchone()
    assert rows == 300
    assert stored <= rows * MAX_ROW_BYTES <= REJECTED_KEPT_BYTES + REJECTED_TRIM_BYTES + MAX_ROW_BYTES
    files = [harness.settings.database_path, harness.settings.database_path.with_name("sync.sqlite-wal")]
    assert sum(p.stat().st_size for p in files if p.exists()) < 8 * 2**20  # was ~70 MB before the heads


def test_the_rejected_rows_are_capped_by_bytes_as_well_as_count(tmp_path: Path) -> None:
    repo = Repository(open_database(tmp_path / "sync.sqlite"))
    events = PaymentEvents(
        repo, FeedNotifier(), provider=RecordedCheckout(), donation_account=None, donation_partner="x"
    )
    head = b"x" * 1024
    headers = json.dumps({"stripe-signature": "s" * 300, "user-agent": "u" * 300})
    for n in range(5000):  # ~1.7 KiB each: 8.5 MB unless the byte cap trims them
        events.store_rejected(
            RejectedRequest(
                head=head, size=600_000, sha256=f"{n:064d}", headers=headers, reason="signature verification failed"
            )
        )
    stored, rows = repo.conn.execute(ROWS_BYTES).fetchone()
    assert stored <= REJECTED_KEPT_BYTES + REJECTED_TRIM_BYTES + MAX_ROW_BYTES
    assert rows < 5000
    newest = repo.conn.execute("SELECT body_sha256 FROM webhook_requests ORDER BY id DESC LIMIT 1").fetchone()
    assert newest == (f"{4999:064d}",)  # the oldest go first


def test_the_first_kib_of_an_oversize_forgery_is_kept_as_sent(harness: Harness) -> None:
    marker = uuid.uuid4().hex.encode()
    body = marker + os.urandom(600 * 1024)
    with client_from("127.0.0.3") as client:
        response = forge(client, harness, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_large"
    [row] = rejected_rows(harness, marker)
    assert bytes(row["body"]) == body[:1024]
    assert row["body_size"] == len(body) and row["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert "too large" in row["error"] and "t=1,v1=00" in row["headers"]


def test_a_body_past_the_webhook_read_limit_is_refused_at_the_door_and_not_stored(harness: Harness) -> None:
    marker = uuid.uuid4().hex.encode()
    with client_from("127.0.0.7") as client:
        response = forge(client, harness, marker + b"x" * (2 * 2**20))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert rejected_rows(harness, marker) == []


def test_rejections_are_rate_limited_per_address_but_signed_webhooks_never(harness: Harness) -> None:
    marker = uuid.uuid4().hex.encode()
    flood = REJECTED_BURST + 40
    with client_from("127.0.0.4") as attacker:
        statuses = [forge(attacker, harness, b'{"m": "' + marker + b'"}').status_code for _ in range(flood)]
        # Past its budget, an address's forgeries are answered 429 and only counted: refilled at
        # 1/s, a few more may have been stored while the flood ran.
        assert statuses[:REJECTED_BURST] == [400] * REJECTED_BURST and statuses[-1] == 429
        stored = len(rejected_rows(harness, marker))
        assert stored == statuses.count(400) < flood
        assert harness.app.state.rejected_budget.refused == statuses.count(429) >= 20

        # Another address has its own budget.
        with client_from("127.0.0.5") as other:
            assert forge(other, harness, b'{"m": "' + marker + b'"}').status_code == 400
        assert len(rejected_rows(harness, marker)) == stored + 1

        # Stripe's signed webhooks, from the address over its budget, are never limited ...
        body = _paid_event_body(harness)
        answer = forge(attacker, harness, body, sign(body))
        assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
        # ... nor is a signed event we cannot read: kept whole, as "malformed", outside the caps.
        malformed = json.dumps({"id": "not-an-event", "m": marker.decode(), "pad": "p" * 2000}).encode()
        answer = forge(attacker, harness, malformed, sign(malformed))
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_webhook"
    with harness.db() as conn:
        kept = conn.execute("SELECT body, error FROM webhook_requests WHERE verdict = 'malformed'").fetchall()
    assert kept == [(malformed.decode(), kept[0][1])] and "malformed event" in kept[0][1]
