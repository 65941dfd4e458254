"""Open the kiosk database in WAL mode and apply its migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from tablepay_files import ensure_private_file

migrations = Migrations("tablepay.kiosk")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE orders (
            order_id TEXT PRIMARY KEY,
            table_label TEXT NOT NULL,
            waiter TEXT NOT NULL DEFAULT '',
            currency TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            tip_kind TEXT NOT NULL DEFAULT 'none',
            tip_value INTEGER NOT NULL DEFAULT 0,
            donation_kind TEXT NOT NULL DEFAULT 'none',
            donation_value INTEGER NOT NULL DEFAULT 0,
            -- 'open' until a feed event says paid; nothing else sets 'paid'.
            status TEXT NOT NULL DEFAULT 'open',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            paid_at TEXT
        );
        CREATE INDEX orders_by_status ON orders(status, updated_at);
        CREATE TABLE lines (
            order_id TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
            sku TEXT NOT NULL,
            name TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0),
            position INTEGER NOT NULL,
            PRIMARY KEY (order_id, sku)
        );
        CREATE TABLE payment_attempts (
            payment_id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES orders(order_id),
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount_total INTEGER NOT NULL,
            tip_amount INTEGER NOT NULL,
            donation_amount INTEGER NOT NULL,
            checkout_url TEXT,
            expires_at INTEGER,
            paid_at TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX attempts_by_order ON payment_attempts(order_id, attempt);
        -- Feed events already applied, by the service's event id: a repeat is a no-op.
        CREATE TABLE applied_events (
            event_id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL,
            event TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            applied_at TEXT NOT NULL
        );
        -- One row: the last feed seq applied, written in the same transaction as the events.
        CREATE TABLE feed_cursor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            after INTEGER NOT NULL
        );
        INSERT INTO feed_cursor (id, after) VALUES (1, 0);
        """
    )


@migrations()
def m002_pos(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- Where the order stands in the restaurant's POS (queued, in_pos, paid, failed); NULL: never sent.
        -- pos.* feed events set it; a send-to-kitchen answer only fills it while it is still NULL.
        ALTER TABLE orders ADD COLUMN pos_status TEXT;
        -- How many of the dish the kitchen already got: the waiter cannot go below it.
        ALTER TABLE lines ADD COLUMN sent_quantity INTEGER NOT NULL DEFAULT 0 CHECK (sent_quantity >= 0);
        -- The last menu read from the POS, per currency, for when the POS cannot be reached.
        CREATE TABLE pos_menu_cache (
            currency TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m003_manager(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        -- What manager mode shows of an attempt: the dish part, what was refunded, Stripe's reference.
        ALTER TABLE payment_attempts ADD COLUMN dish_subtotal INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE payment_attempts ADD COLUMN amount_refunded INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE payment_attempts ADD COLUMN provider_reference TEXT;
        ALTER TABLE payment_attempts ADD COLUMN donation_partner TEXT;
        ALTER TABLE payment_attempts ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
        UPDATE payment_attempts SET dish_subtotal = amount_total - tip_amount - donation_amount,
                                    created_at = COALESCE(paid_at, updated_at);
        -- The history sorts and filters on these; the common ones are backed by an index.
        CREATE INDEX attempts_by_created ON payment_attempts(created_at);
        CREATE INDEX attempts_by_status ON payment_attempts(status, created_at);
        CREATE INDEX attempts_by_paid ON payment_attempts(paid_at);
        CREATE INDEX attempts_by_total ON payment_attempts(amount_total);
        CREATE INDEX attempts_by_reference ON payment_attempts(provider_reference);
        CREATE INDEX orders_by_waiter ON orders(waiter);
        CREATE INDEX orders_by_table ON orders(table_label);
        -- An attempt's event history (what the feed said, and when the service said it).
        ALTER TABLE applied_events ADD COLUMN order_id TEXT;
        ALTER TABLE applied_events ADD COLUMN status TEXT;
        ALTER TABLE applied_events ADD COLUMN amount_refunded INTEGER;
        ALTER TABLE applied_events ADD COLUMN occurred_at TEXT;
        CREATE INDEX events_by_payment ON applied_events(payment_id, seq);
        -- Wrong manager PINs in a row and the lock (Unix time): a restart must not reset them.
        CREATE TABLE manager_pin_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            wrong INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        );
        INSERT INTO manager_pin_state (id) VALUES (1);
        """
    )


@migrations()
def m004_pending_refunds(db: sqlite_utils.Database) -> None:
    # A refund sent without an answer keeps its Idempotency-Key here, so pressing Refund again,
    # even after a restart, repeats the same refund instead of making a second one.
    db.execute("""
        CREATE TABLE pending_refunds (
            payment_id TEXT NOT NULL,
            amount INTEGER NOT NULL,
            idempotency_key TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (payment_id, amount)
        )""")


@migrations()
def m005_history_order_indexes(db: sqlite_utils.Database) -> None:
    # Back the history's waiter/table/POS sorts, tie-broken by order id (store/manager.py).
    db.executescript("""
        CREATE INDEX orders_by_waiter_order ON orders(waiter, order_id);
        CREATE INDEX orders_by_table_order ON orders(table_label, order_id);
        CREATE INDEX orders_by_pos_order ON orders(pos_status, order_id);
        """)


@migrations()
def m006_chargebacks(db: sqlite_utils.Database) -> None:
    db.executescript("""
        -- What the guest's bank took back after the payment (minor units), as the service last said it.
        ALTER TABLE payment_attempts ADD COLUMN amount_charged_back INTEGER NOT NULL DEFAULT 0;
        -- 1 once a payment.charged_back feed event was applied: the mark stays even while the amount
        -- is not known yet (the feed event names the change; the amount comes from the payment).
        ALTER TABLE payment_attempts ADD COLUMN charged_back INTEGER NOT NULL DEFAULT 0;
        """)


@migrations()
def m007_split_bill(db: sqlite_utils.Database) -> None:
    db.executescript("""
        -- 1: a share of a split bill (a bill.share_* feed event named it): its payment never marks the
        -- order paid; only bill.settled does (docs/split-bill.md).
        ALTER TABLE payment_attempts ADD COLUMN share INTEGER NOT NULL DEFAULT 0;
        -- The order's split bill as the last bill.* event (or bill answer) said it; NULL: never split.
        ALTER TABLE orders ADD COLUMN bill_status TEXT;
        ALTER TABLE orders ADD COLUMN bill_version INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN bill_total INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN bill_paid INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN bill_held INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN bill_remaining INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN bill_guests_paying INTEGER NOT NULL DEFAULT 0;
        """)


@migrations()
def m008_service_order_status(db: sqlite_utils.Database) -> None:
    # The order's status as the service reports it (`order.status` feed events: awaiting_payment, paid,
    # in_kitchen, closed, expired, cancelled); NULL until it says one. `status` stays the kiosk's open/paid.
    db.execute("ALTER TABLE orders ADD COLUMN service_status TEXT")


@migrations()
def m009_partner_orders(db: sqlite_utils.Database) -> None:
    db.executescript("""
        -- A partner's order (store/partner.py): the partner's name; NULL for this kiosk's own orders.
        -- Recorded from its first feed event; never edited nor checked out here.
        ALTER TABLE orders ADD COLUMN partner TEXT;
        """)


def open_db(path: Path) -> sqlite_utils.Database:
    ensure_private_file(path)  # the kiosk's orders and payments: 0600, and so its -wal and -shm
    conn = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes, fast
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=5000")
    migrations.apply(db)
    # Fresh statistics let SQLite pick the history's plan (e.g. walk the waiter index instead of
    # sorting 100,000 rows per page); sampled, so it takes milliseconds even on a big store.
    db.execute("PRAGMA analysis_limit=1000")
    db.execute("ANALYZE")
    return db
