"""Open the service's SQLite database (WAL) and bring its schema up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from tablepay_files import ensure_private_file

from ..settings import Settings
from .checkpoint import BACKSTOP_PAGES
from .order_status_schema import ORDER_STATUS
from .postgres import PostgresDatabase, open_postgres

migrations = Migrations("tablepay.sync")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE kiosks (
            kiosk_id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE orders (
            order_id TEXT PRIMARY KEY,
            kiosk_id TEXT NOT NULL,
            currency TEXT NOT NULL,
            table_label TEXT NOT NULL,
            waiter TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE payments (
            payment_id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES orders(order_id),
            attempt INTEGER NOT NULL,
            kiosk_id TEXT NOT NULL,
            status TEXT NOT NULL,
            currency TEXT NOT NULL,
            dish_subtotal INTEGER NOT NULL,
            tip_amount INTEGER NOT NULL,
            donation_amount INTEGER NOT NULL,
            amount_total INTEGER NOT NULL,
            amount_refunded INTEGER NOT NULL DEFAULT 0,
            snapshot TEXT NOT NULL,
            provider TEXT NOT NULL,
            provider_session_id TEXT UNIQUE,
            provider_payment_intent TEXT,
            provider_charge TEXT,
            checkout_url TEXT,
            expires_at INTEGER,
            idempotency_key TEXT,
            failure_reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            paid_at TEXT,
            UNIQUE (order_id, attempt)
        );
        CREATE INDEX payments_by_intent ON payments(provider_payment_intent);
        -- Only live attempts are swept by the reconciler; a partial index stays small
        -- and a payment leaves it for good once it is paid or closed.
        CREATE INDEX payments_live ON payments(updated_at) WHERE status IN ('open', 'pending', 'authorized');
        CREATE TABLE idempotent_requests (
            kiosk_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status_code INTEGER NOT NULL,
            response TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (kiosk_id, idempotency_key)
        );
        -- Provider events we accepted, keyed by the provider's event id: a
        -- repeated delivery finds its row here and has no second effect.
        CREATE TABLE integration_events (
            event_id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            type TEXT NOT NULL,
            payment_id TEXT,
            outcome TEXT NOT NULL,
            received_at TEXT NOT NULL,
            payload TEXT NOT NULL
        );
        CREATE INDEX integration_events_by_payment ON integration_events(payment_id);
        -- The ordered feed of state changes that kiosks and the POS sync follow.
        -- seq without AUTOINCREMENT (which costs a sqlite_sequence write per row):
        -- feed rows are never deleted, so a seq is never handed out twice.
        CREATE TABLE feed (
            seq INTEGER PRIMARY KEY,
            -- A fresh uuid4 per row, unique by construction: no index, so an insert
            -- does not write a random B-tree page.
            event_id TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            event TEXT NOT NULL,
            order_id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount_total INTEGER NOT NULL,
            tip_amount INTEGER NOT NULL,
            donation_amount INTEGER NOT NULL,
            amount_refunded INTEGER NOT NULL,
            paid_at TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX feed_by_kiosk ON feed(kiosk_id, seq);
        -- Work for other parties, written in the same transaction as the
        -- change that causes it, delivered at least once by a worker.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            payment_id TEXT,
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT
        );
        CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
        CREATE TABLE donation_transfers (
            payment_id TEXT PRIMARY KEY,
            transfer_id TEXT NOT NULL UNIQUE,
            partner TEXT NOT NULL,
            destination TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m002_pos_sync(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- POS state events share the kiosk feed; payment events leave it NULL.
        ALTER TABLE feed ADD COLUMN pos_status TEXT;
        -- Rows with the same ordering_key (an order id) are delivered strictly in id order.
        ALTER TABLE outbox ADD COLUMN ordering_key TEXT;
        CREATE INDEX outbox_ordering ON outbox(ordering_key, id) WHERE state != 'done';
        -- Our side of each order in the restaurant's POS.
        CREATE TABLE pos_orders (
            order_id TEXT PRIMARY KEY REFERENCES orders(order_id),
            pos_guid TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            visit_id TEXT,
            order_ident TEXT,
            check_num TEXT,
            last_error TEXT,
            updated_at TEXT NOT NULL
        );
        -- What was sent to the kitchen, one row per package (an R-Keeper Session).
        CREATE TABLE pos_packages (
            order_id TEXT NOT NULL REFERENCES orders(order_id),
            package INTEGER NOT NULL,
            line_guid TEXT NOT NULL UNIQUE,
            lines TEXT NOT NULL,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            PRIMARY KEY (order_id, package)
        );
        -- Every POS step taken, for the manager's order detail.
        CREATE TABLE pos_trail (
            id INTEGER PRIMARY KEY,
            order_id TEXT NOT NULL,
            at TEXT NOT NULL,
            step TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX pos_trail_by_order ON pos_trail(order_id, id);
        """
    )


@migrations()
def m003_refunds_and_scopes(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- Space-separated: 'kiosk', plus 'manager' for tokens that may refund.
        ALTER TABLE kiosks ADD COLUMN scopes TEXT NOT NULL DEFAULT 'kiosk';
        -- The provider's reference of the payment (payment intent, else session) on payment events.
        ALTER TABLE feed ADD COLUMN provider_reference TEXT;
        -- Refunds asked of the provider; the payment's state follows from its events.
        CREATE TABLE refunds (
            refund_id TEXT PRIMARY KEY,
            payment_id TEXT NOT NULL REFERENCES payments(payment_id),
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            idempotency_key TEXT NOT NULL UNIQUE,
            kiosk_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX refunds_by_payment ON refunds(payment_id);
        """
    )


@migrations()
def m004_attention(db: sqlite_utils.Database) -> None:
    # A payment a person must look at (an order paid twice: refund one).
    db.execute("ALTER TABLE payments ADD COLUMN attention TEXT")


@migrations()
def m005_webhook_requests(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- Every webhook request as it came (headers, body) with what became of it, so a
        -- rejected or failed one can be inspected and replayed.
        CREATE TABLE webhook_requests (
            id INTEGER PRIMARY KEY,
            received_at TEXT NOT NULL,
            event_id TEXT,
            verdict TEXT NOT NULL,
            headers TEXT NOT NULL,
            body TEXT NOT NULL,
            error TEXT
        );
        CREATE INDEX webhook_requests_failed ON webhook_requests(verdict) WHERE verdict IN ('failed', 'rejected');
        """
    )


@migrations()
def m006_idempotency_reservations(db: sqlite_utils.Database) -> None:
    # A key is reserved ('in_progress', with the request's hash) before any work, so two requests
    # racing with one key cannot both do the work; 'done' rows hold the answer to replay.
    db.execute("ALTER TABLE idempotent_requests ADD COLUMN state TEXT NOT NULL DEFAULT 'done'")


@migrations()
def m007_rejected_request_digests(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- A rejected (unsigned or forged) request keeps only the first bytes of its body, as sent
        -- (a BLOB in `body`), with the whole body's size and sha256: enough to recognise a
        -- flood and compare requests, without storing what an attacker chose to send.
        ALTER TABLE webhook_requests ADD COLUMN body_size INTEGER;
        ALTER TABLE webhook_requests ADD COLUMN body_sha256 TEXT;
        """
    )


# m008/m009 are left for migrations being written on other branches at the same time (issue 12).
@migrations()
def m010_pairing_codes(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- Codes an unpaired kiosk shows until an operator approves them (`tablepay sync add-kiosk
        -- KIOSK_ID --code CODE`) and the kiosk's poll collects its token, once. Only hashes of the code
        -- and of the kiosk's poll secret are kept; the token is issued when it is collected, so it is
        -- never stored in clear. Times are epoch seconds (expiry is compared, never shown).
        CREATE TABLE pairing_codes (
            code_hash TEXT PRIMARY KEY,
            poll_secret_hash TEXT NOT NULL,
            kiosk_name TEXT,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            kiosk_id TEXT,
            scopes TEXT,
            approved_at REAL,
            collected_at REAL
        );
        CREATE INDEX pairing_codes_by_expiry ON pairing_codes(expires_at);
        """
    )


@migrations()
def m011_chargebacks(db: sqlite_utils.Database) -> None:
    # What the guest's bank took back after the payment (Mollie's amountChargedBack), in minor units.
    db.execute("ALTER TABLE payments ADD COLUMN amount_charged_back INTEGER NOT NULL DEFAULT 0")


@migrations()
def m012_outbox_leases(db: sqlite_utils.Database) -> None:
    # The same columns as PostgreSQL's outbox (storage/postgres_schema.py); one instance never leases.
    db.execute("ALTER TABLE outbox ADD COLUMN lease_until REAL")
    db.execute("ALTER TABLE outbox ADD COLUMN lease_token TEXT")


@migrations()
def m013_split_bills(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- An order opened for splitting between guests (docs/split-bill.md); one per order. `lines` is
        -- the JSON of its dishes at `version`; `token` is the bill page's capability (like a hosted
        -- checkout's URL), useless an hour after `closed_at` (epoch seconds, settled or stopped);
        -- `tip_presets`: the opening kiosk's (JSON percentages), offered to the guests.
        CREATE TABLE bills (
            bill_id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL UNIQUE REFERENCES orders(order_id),
            kiosk_id TEXT NOT NULL,
            token TEXT NOT NULL UNIQUE,
            currency TEXT NOT NULL,
            lines TEXT NOT NULL,
            version INTEGER NOT NULL,
            split_ways INTEGER,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at REAL,
            tip_presets TEXT NOT NULL
        );
        -- A share of a bill is a payment attempt of its order: which bill, what it pays (JSON: mode,
        -- equal shares, dish units, bill version), until when its part is held (epoch seconds; 0 once
        -- released and its checkout stopped), and whether it was left out of the bill (paid too late).
        ALTER TABLE payments ADD COLUMN bill_id TEXT REFERENCES bills(bill_id);
        ALTER TABLE payments ADD COLUMN share TEXT;
        ALTER TABLE payments ADD COLUMN hold_until REAL;
        ALTER TABLE payments ADD COLUMN share_excluded INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX payments_by_bill ON payments(bill_id) WHERE bill_id IS NOT NULL;
        CREATE INDEX payments_holding ON payments(hold_until) WHERE hold_until > 0;
        -- A bill's progress on its feed events (JSON), for the kiosk's split screen.
        ALTER TABLE feed ADD COLUMN bill TEXT;
        """
    )


PARTNERS_SQL = """
-- Systems that create orders with an API key and receive signed webhooks (docs/partners.md). Only the
-- key's sha256 is kept; the signing secrets and the bearer token are kept as given, since we must
-- present them. `previous_secret` still signs for 24 h after `rotated_at` (epoch seconds);
-- `failing_since` (epoch seconds): the first failed delivery since the last success.
CREATE TABLE partners (
    name TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    webhook_url TEXT NOT NULL,
    bearer_token TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    rotated_at REAL,
    disabled_at TEXT,
    disabled_reason TEXT,
    failing_since REAL,
    created_at TEXT NOT NULL
);
-- A partner's order: its own id (unique per partner) for our order and its payment attempt. No foreign
-- key to partners: a removed partner's orders stay in the history under its name.
CREATE TABLE partner_orders (
    partner TEXT NOT NULL,
    external_order_id TEXT NOT NULL,
    order_id TEXT NOT NULL UNIQUE REFERENCES orders(order_id),
    payment_id TEXT NOT NULL,
    kitchen TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (partner, external_order_id)
);
"""


@migrations()
def m014_partners(db: sqlite_utils.Database) -> None:
    db.executescript(PARTNERS_SQL)


@migrations()
def m015_order_status(db: sqlite_utils.Database) -> None:
    db.executescript(ORDER_STATUS)


# Partners' feed rows go to every kiosk (storage/feed_rows.py, feed_after): this index lets a poll find
# those after its cursor without walking every partner row ever written.
# (The same predicate as feed_rows.PARTNER_ROW, so both engines match the query to the index.)
FEED_PARTNER_SQL = "CREATE INDEX feed_of_partners ON feed(seq) WHERE substr(kiosk_id, 1, 8) = 'partner:';"


@migrations()
def m016_feed_partner(db: sqlite_utils.Database) -> None:
    db.executescript(FEED_PARTNER_SQL)


def open_database(path: Path) -> sqlite_utils.Database:
    """A connection in WAL mode with the schema applied.

    synchronous=NORMAL in WAL mode keeps every commit atomic and durable
    against a process crash (SIGKILL); only an OS crash or power loss can
    lose the last transactions, which the reconciliation loop then repairs
    from the provider.
    """
    # It holds token hashes and payment data: created 0600 before SQLite opens it,
    # and SQLite gives its -wal and -shm files the same mode.
    ensure_private_file(path)
    # One connection, used by whichever thread runs the event loop (uvicorn may
    # run in a worker thread in tests and in the demo); all use is from that loop.
    db = sqlite_utils.Database(sqlite3.connect(path, check_same_thread=False))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    db.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)
    # Autocommit: transactions are only the explicit BEGIN IMMEDIATE ones of
    # Repository.transaction(), never an implicit one left open by a stray write.
    db.conn.isolation_level = None
    return db


def open_storage(settings: Settings) -> sqlite_utils.Database | PostgresDatabase:
    """PostgreSQL when TABLEPAY_DATABASE_URL is set (chain mode), else SQLite under TABLEPAY_DATA_DIR."""
    if settings.database_url is not None:
        return open_postgres(settings.database_url.get_secret_value())
    return open_database(settings.database_path)
