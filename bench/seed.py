"""Seed databases and build signed Stripe `checkout.session.completed` webhooks.

Payments are grouped in batches with a prefix ("bench", "warm", "push", ...)
so every phase of a run gets payments that are still open: a warm-up or a
background load never consumes the rows a measured phase expects to move.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import sqlite3
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync_service.storage.repository import Repository

# Stripe's own example objects, as shipped with the sandbox (from shared/reference/stripe/).
FIXTURES = Path(__file__).resolve().parent.parent / "tablepay_sandbox" / "stripe_fixtures.json"
API_VERSION = "2024-06-20"
HOST = "127.0.0.1"
WEBHOOK_PATH = "/webhooks/stripe"


@dataclass(frozen=True)
class SeededPayment:
    payment_id: str
    order_id: str
    session_id: str
    amount_total: int
    kiosk_id: str


def batch(prefix: str, count: int, kiosk_id: str) -> list[SeededPayment]:
    """`count` payments named after `prefix`; amounts vary so rows are not identical."""
    return [
        SeededPayment(
            payment_id=f"pay_{prefix}_{i}",
            order_id=f"ord_{prefix}_{i}",
            session_id=f"cs_{prefix}_{i}",
            amount_total=1000 + (i % 997) * 10,
            kiosk_id=kiosk_id,
        )
        for i in range(count)
    ]


# -- the real service -----------------------------------------------------------
def seed_service(database_path: Path, batches: list[list[SeededPayment]], kiosk_ids: list[str]) -> dict[str, str]:
    """Insert orders and open payments through the service's own Repository; returns kiosk tokens."""
    # Imported here so the reference servers never load sync_service.
    from sync_service.storage.db import open_database
    from sync_service.storage.repository import Repository

    db = open_database(database_path)
    try:
        return seed_repository(Repository(db), batches, kiosk_ids)
    finally:
        db.conn.close()


def seed_postgres(database_url: str, batches: list[list[SeededPayment]], kiosk_ids: list[str]) -> dict[str, str]:
    """The same on PostgreSQL (chain mode): migrates the database first, as an instance starting would."""
    from sync_service.storage.postgres import open_postgres
    from sync_service.storage.repository import Repository

    db = open_postgres(database_url)
    try:
        return seed_repository(Repository(db), batches, kiosk_ids)
    finally:
        db.close()


def seed_repository(repo: Repository, batches: list[list[SeededPayment]], kiosk_ids: list[str]) -> dict[str, str]:
    from sync_service.api.auth import issue_kiosk_token
    from sync_service.models import PaymentRecord, utc_now
    from tablepay_domain.payment_state import PaymentStatus

    tokens = {kiosk: issue_kiosk_token(repo, kiosk) for kiosk in kiosk_ids}
    now = utc_now()
    with repo.transaction():
        for payments in batches:
            for p in payments:
                repo.conn.execute(
                    "INSERT INTO orders (order_id, kiosk_id, currency, table_label, waiter, snapshot, created_at, "
                    "updated_at) VALUES (?, ?, 'EUR', '4', 'Ana', '{}', ?, ?)",
                    (p.order_id, p.kiosk_id, now, now),
                )
                repo.insert_payment(
                    PaymentRecord(
                        payment_id=p.payment_id,
                        order_id=p.order_id,
                        attempt=1,
                        kiosk_id=p.kiosk_id,
                        status=PaymentStatus.OPEN,
                        currency="EUR",
                        dish_subtotal=p.amount_total - 200,
                        tip_amount=200,
                        donation_amount=0,
                        amount_total=p.amount_total,
                        amount_refunded=0,
                        snapshot="{}",
                        provider="stripe",
                        provider_session_id=p.session_id,
                        provider_payment_intent=None,
                        provider_charge=None,
                        checkout_url=f"https://checkout.stripe.com/c/pay/{p.session_id}",
                        expires_at=int(time.time()) + 3600,
                        idempotency_key=None,
                        failure_reason=None,
                        created_at=now,
                        updated_at=now,
                        paid_at=None,
                    )
                )
    return tokens


# -- the minimal reference handler ------------------------------------------------
MINIMAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (session_id TEXT PRIMARY KEY, status TEXT NOT NULL);
"""


def seed_minimal(database_path: Path, batches: list[list[SeededPayment]]) -> None:
    """The same payments, reduced to what the minimal handler touches."""
    conn = sqlite3.connect(database_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(MINIMAL_SCHEMA)
    with conn:
        conn.executemany(
            "INSERT INTO payments VALUES (?, 'open')", [(p.session_id,) for payments in batches for p in payments]
        )
    conn.close()


# -- events and requests ----------------------------------------------------------
@cache
def _session_template() -> dict[str, Any]:
    """Stripe's full example checkout.session, so bodies are as big as real ones."""
    return dict(json.loads(FIXTURES.read_text())["resources"]["checkout.session"])


def event_body(p: SeededPayment, created: int) -> str:
    session = copy.deepcopy(_session_template())
    session.update(
        id=p.session_id,
        status="complete",
        payment_status="paid",
        payment_intent=p.session_id.replace("cs_", "pi_", 1),
        amount_total=p.amount_total,
        amount_subtotal=p.amount_total,
        currency="eur",
        client_reference_id=p.order_id,
        url=None,
        created=created,
        expires_at=created + 3600,
        metadata={
            "payment_id": p.payment_id,
            "order_id": p.order_id,
            "attempt": "1",
            "kiosk_id": p.kiosk_id,
            "table": "4",
        },
    )
    event = {
        "id": p.session_id.replace("cs_", "evt_", 1),
        "object": "event",
        "type": "checkout.session.completed",
        "api_version": API_VERSION,
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": session},
    }
    # Stripe sends pretty-printed JSON; so do we, for realistic sizes.
    return json.dumps(event, indent=2)


def signature_header(body: str, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def http_request(port: int, body: str, signature: str) -> bytes:
    """One complete HTTP/1.1 request, ready for a single socket write."""
    payload = body.encode()
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
        f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(payload)}\r\n"
        f"Stripe-Signature: {signature}\r\nAccept: */*; q=0.5, application/xml\r\n\r\n"
    )
    return head.encode() + payload


class SignedRequests:
    """Bodies built once; `sign()` stamps them with the current time just before a phase."""

    def __init__(self, payments: list[SeededPayment], secret: str) -> None:
        created = int(time.time())
        self.payments = payments
        self.bodies = [event_body(p, created) for p in payments]
        self._secret = secret

    def sign(self, port: int) -> list[bytes]:
        now = int(time.time())
        return [http_request(port, body, signature_header(body, self._secret, now)) for body in self.bodies]

    @property
    def mean_body_bytes(self) -> int:
        return sum(len(b.encode()) for b in self.bodies) // max(1, len(self.bodies))
