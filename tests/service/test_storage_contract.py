"""The repository's contract, on both engines from one suite: what the service relies on of its storage.

Each test runs on SQLite and on a fresh PostgreSQL database (the `database_url` fixture). What only
PostgreSQL can show (two instances at once) is in test_chain_mode.py.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sync_service.models import PaymentRecord
from sync_service.storage.db import open_database
from sync_service.storage.postgres import open_postgres
from sync_service.storage.repository import Repository
from tablepay_domain.order import Line, Order
from tablepay_domain.payment_state import PaymentStatus
from tests.support.payment_store import payment_record

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path, database_url: str | None) -> Iterator[Repository]:
    db = open_postgres(database_url) if database_url else open_database(tmp_path / "sync.sqlite")
    yield Repository(db)
    db.close()


def an_order(order_id: str = "ord-1", kiosk_id: str = "kiosk-1") -> Order:
    return Order(order_id, kiosk_id, "EUR", "12", "Ana", (Line("PASTA", "Pasta", 2, 1250),), tip_amount=200)


def a_payment(order: Order, attempt: int = 1) -> PaymentRecord:
    return payment_record(
        payment_id=f"pay_{order.order_id}_{attempt}",
        order_id=order.order_id,
        attempt=attempt,
        kiosk_id=order.kiosk_id,
        currency=order.currency,
        dish_subtotal=order.dish_subtotal,
        tip_amount=order.tip_amount,
        amount_total=order.amount_total,
        provider_session_id=f"cs_{order.order_id}_{attempt}",
    )


def stored(repo: Repository, *orders: Order) -> list[PaymentRecord]:
    payments = []
    with repo.transaction():
        for order in orders:
            repo.upsert_order(order, "{}", "on_send")
            payment = a_payment(order)
            repo.insert_payment(payment)
            payments.append(payment)
    return payments


def test_an_event_id_is_claimed_once(repo: Repository) -> None:
    with repo.transaction():
        assert repo.claim_events(["evt_2", "evt_1", "evt_1"], "stripe") == {"evt_1", "evt_2"}
    with repo.transaction():
        assert repo.claim_events(["evt_1", "evt_3"], "stripe") == {"evt_3"}
        repo.unclaim_events(["evt_3"])  # looked at again later: as if never seen
        repo.settle_events([("evt_1", "checkout.session.completed", None, "applied", "{}")])
    assert repo.seen_events(["evt_1", "evt_2", "evt_3"]) == {"evt_1", "evt_2"}
    with repo.transaction():
        assert repo.claim_events(["evt_3"], "stripe") == {"evt_3"}


def test_a_rolled_back_claim_leaves_the_event_unseen(repo: Repository) -> None:
    with pytest.raises(RuntimeError), repo.transaction():
        repo.claim_events(["evt_9"], "stripe")
        raise RuntimeError("the batch failed")
    assert repo.seen_events(["evt_9"]) == set()


def test_payments_are_found_by_any_link_and_many_at_once(repo: Repository) -> None:
    orders = [an_order(f"ord-{n}") for n in range(30)]
    payments = stored(repo, *orders)
    with repo.transaction():
        found = repo.payments_by_id([p.payment_id for p in payments] + ["pay_missing"], lock=True)
        assert set(found) == {p.payment_id for p in payments}
        assert repo.find_payment(session_id="cs_ord-7_1", lock=True) == payments[7]
    changed = replace(payments[3], status=PaymentStatus.PAID, amount_charged_back=100, attention="x")
    with repo.transaction():
        repo.write_payments([changed])
    assert repo.payment(changed.payment_id) == changed
    assert repo.paid_attempts(["ord-3", "ord-4"]) == {"ord-3": {changed.payment_id}}


def test_the_feed_is_in_commit_order_and_read_per_kiosk(repo: Repository) -> None:
    first, second = stored(repo, an_order("ord-a", "kiosk-1"), an_order("ord-b", "kiosk-2"))
    with repo.transaction():
        seq_a = repo.append_feed(first)
        repo.append_feed_many([second, replace(second, status=PaymentStatus.PAID)], None)
        repo.append_pos_feed("kiosk-1", "ord-a", "EUR", "queued")
    everything = repo.feed_after(0, 100)
    assert [row["seq"] for row in everything] == sorted(row["seq"] for row in everything)
    assert everything[0]["seq"] == seq_a and len({row["seq"] for row in everything}) == 4
    assert [row["event"] for row in repo.feed_after(0, 100, "kiosk-2")] == ["payment.created", "payment.succeeded"]
    assert [row["event"] for row in repo.feed_after(seq_a, 100, "kiosk-1")] == ["pos.queued"]


def test_the_outbox_delivers_an_orders_rows_in_order_and_once(repo: Repository) -> None:
    with repo.transaction():
        assert repo.enqueue("pos.package", "pos:o1:1", None, {"order_id": "o1"}, ordering_key="o1")
        assert not repo.enqueue("pos.package", "pos:o1:1", None, {"order_id": "o1"}, ordering_key="o1")
        repo.enqueue("pos.payment", "pos:o1:pay", None, {"order_id": "o1"}, ordering_key="o1")
        repo.enqueue("pos.package", "pos:o2:1", None, {"order_id": "o2"}, ordering_key="o2")
    claimed = repo.claim_outbox(time.time(), 10, 30)
    assert [row["dedupe_key"] for row in claimed] == ["pos:o1:1", "pos:o2:1"]  # o1's payment waits its turn
    assert repo.claim_outbox(time.time(), 10, 30) == ([] if repo.dialect.name == "postgres" else claimed)
    head, other = claimed
    with repo.transaction():
        assert repo.outbox_done(head["id"], head["lease_token"])
        assert repo.outbox_failed(other["id"], "POS down", time.time() + 3600, False, other["lease_token"])
    [payment] = repo.claim_outbox(time.time(), 10, 30)  # o2's row waits for its retry time
    assert payment["dedupe_key"] == "pos:o1:pay"
    with repo.transaction():
        assert repo.outbox_done(payment["id"], payment["lease_token"])
    states = {row["dedupe_key"]: (row["state"], row["attempts"]) for row in repo.outbox_rows()}
    assert states == {"pos:o1:1": ("done", 0), "pos:o1:pay": ("done", 0), "pos:o2:1": ("pending", 1)}


def test_an_outcome_without_the_current_lease_changes_nothing(repo: Repository) -> None:
    if repo.dialect.name != "postgres":
        pytest.skip("one SQLite instance never leases a row")
    with repo.transaction():
        repo.enqueue("donation.transfer", "donation:p1", None, {"payment_id": "p1"})
    [first] = repo.claim_outbox(time.time(), 10, -1)  # a lease that has already run out (its holder hangs)
    [again] = repo.claim_outbox(time.time(), 10, 30)  # taken over by another worker
    with repo.transaction():
        assert not repo.outbox_done(first["id"], first["lease_token"])  # the late worker: fenced off
        assert repo.outbox_done(again["id"], again["lease_token"])
    assert repo.outbox_rows()[0]["state"] == "done"


def test_an_idempotency_key_is_reserved_once(repo: Repository) -> None:
    assert repo.reserve_idempotency_key("kiosk-1", "key-1", "hash-a") is None  # its own transaction
    held = repo.reserve_idempotency_key("kiosk-1", "key-1", "hash-b")
    assert held is not None and held.in_progress and held.request_hash == "hash-a"
    with repo.transaction():
        repo.finish_idempotent_request("kiosk-1", "key-1", 201, {"payment_id": "p"})
    done = repo.idempotent_request("kiosk-1", "key-1")
    assert done is not None and (done.in_progress, done.status_code, done.response) == (False, 201, {"payment_id": "p"})


def test_rejected_requests_keep_their_bytes_within_the_caps(repo: Repository) -> None:
    head = bytes(range(256)) * 4  # every byte value, NUL included
    with repo.transaction():
        for _ in range(5):
            repo.store_rejected_request('{"content-type": "x"}', head, 10_000, "ab" * 32, "forged")
    assert repo.rejected_bytes() == 5 * (len(head) + len('{"content-type": "x"}') + len("forged") + 64)
    with repo.transaction():
        repo.trim_rejected_requests(3, 10**9)
    assert len(repo.webhook_requests(verdict="rejected")) == 3


def test_the_only_instance_job_runs_here(repo: Repository) -> None:
    with repo.only_one_instance("reconcile") as mine:
        assert mine
    with repo.only_one_instance("reconcile") as again:  # released at the end
        assert again


def test_no_storage_sql_literal_holds_a_placeholder_or_a_percent() -> None:
    """engine.postgres_sql maps `?` to `%s` and doubles `%`: safe only while no SQL string literal ('...')
    in the storage modules contains either."""
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ON CONFLICT|WHERE)\b")
    offenders: list[str] = []
    for path in sorted((ROOT / "sync_service" / "storage").glob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
        }
        statements = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        ]
        offenders += [
            f"{path.name}: '{literal}'"
            for text in statements
            if sql.search(text)
            for literal in re.findall(r"'([^']*)'", text)
            if "?" in literal or "%" in literal
        ]
    assert offenders == []


def test_the_order_status_migration_backfills_what_orders_already_stored(tmp_path: Path) -> None:
    """m015 on a database of the release before it: each stored order gets the status the rules give."""
    import sqlite3

    import sqlite_utils

    from sync_service.storage.db import migrations, open_database

    path = tmp_path / "sync.sqlite"
    db = sqlite_utils.Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m015_order_status")
    repo = Repository(db)
    db.conn.isolation_level = None
    cases = {"paid": PaymentStatus.PAID, "expired": PaymentStatus.EXPIRED, "open": PaymentStatus.OPEN}
    with repo.transaction():
        for name, status in cases.items():
            order = an_order(f"ord-{name}")
            repo.conn.execute(
                "INSERT INTO orders (order_id, kiosk_id, currency, table_label, waiter, snapshot, created_at, "
                "updated_at) VALUES (?, 'kiosk-1', 'EUR', '1', 'Ana', '{}', 'now', 'now')",
                (order.order_id,),
            )
            repo.insert_payment(replace(a_payment(order), status=status))
    db.conn.close()
    repo = Repository(open_database(path))
    assert repo.order_statuses(["ord-paid", "ord-expired", "ord-open"]) == {
        "ord-paid": "paid",  # no POS: paid stays paid
        "ord-expired": "expired",
        "ord-open": "awaiting_payment",
    }
    stored = repo.stored_order("ord-paid")
    assert stored is not None and stored.kitchen == "on_send"
