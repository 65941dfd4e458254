"""Chain mode: several instances of the sync service on one PostgreSQL database (issue 14's PostgreSQL-only tests).

Each test is a race made certain rather than hoped for: where two parties must be in flight at once,
the test holds a lock they both need and first sees, in pg_stat_activity, that both wait on it; only
then does it let go and look at the outcome. Instances are the harness's service plus
`Harness.second_instance()` (another app on its own port, same database and sandbox), a real
`tablepay sync` process where it must die by SIGKILL, or repositories on their own connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from sync_service.api.mollie_webhook import PATH as MOLLIE_PATH
from sync_service.models import PaymentRecord, utc_now
from sync_service.services.outbox import OutboxWorker
from sync_service.services.payment_events import DONATION_TOPIC
from sync_service.services.pos_orders import PACKAGE_TOPIC, PAYMENT_TOPIC
from sync_service.storage.postgres import PostgresDatabase
from sync_service.storage.postgres_schema import MIGRATION_LOCK, MIGRATIONS, apply_migrations
from sync_service.storage.repository import Repository
from tablepay_domain.payment_state import PaymentStatus
from tablepay_sandbox.rkeeper.seed import client_settings
from tests.support.harness import WEBHOOK_SECRET, Harness, make_order, running_harness
from tests.support.payment_store import payment_record
from tests.support.providers import PROVIDERS
from tests.support.service_process import service_process
from tests.support.waiting import eventually

KIOSK = "kiosk-1"
SERVICE = "tablepay-sync"  # the application_name of the service's pooled connections
LISTENING = (  # the instances' feed listeners, once they have sent LISTEN
    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tablepay-feed' "
    "AND query LIKE 'LISTEN %%'"
)


# helpers ------------------------------------------------------------------------------------------
def _rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def _lock_waits(url: str, application: str) -> list[str]:
    """What the sessions of `application` on this database are waiting for, one entry per waiting session
    (`transactionid`, `tuple`, `advisory`, ...: PostgreSQL's wait_event of type Lock)."""
    return [
        row[0]
        for row in _rows(
            url,
            "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE %s AND wait_event_type = 'Lock'",
            application,
        )
    ]


def _waiting_on_locks(url: str, application: str, count: int) -> list[str]:
    return eventually(
        lambda: len(waits := _lock_waits(url, application)) == count and waits,
        message=f"{count} session(s) of {application} waiting on a lock",
    )


@contextmanager
def _payment_row_locked(url: str, payment_id: str) -> Iterator[psycopg.Connection[Any]]:
    """The payment's row locked FOR UPDATE by the test until it commits the connection yielded
    (or the block ends): whoever decides about this payment waits meanwhile."""
    with psycopg.connect(url, application_name="test-blocker") as conn:
        assert conn.execute("SELECT 1 FROM payments WHERE payment_id = %s FOR UPDATE", (payment_id,)).fetchone()
        yield conn


@contextmanager
def _repositories(url: str, count: int) -> Iterator[list[Repository]]:
    """`count` instances' repositories, each on a pool and connection of its own, opened as the service opens them."""
    databases = [PostgresDatabase(url) for _ in range(count)]
    try:
        yield [Repository(db) for db in databases]
    finally:
        for db in databases:
            db.close()


def _sign(body: bytes) -> str:
    timestamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _held_webhook(h: Harness, payment: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    """The webhook the sandbox holds for the payment's success, as (path, body, headers) to POST to any instance."""
    if h.provider.name == "mollie":
        body = f"id={h.session_id(payment)}".encode()
        return MOLLIE_PATH, body, {"Content-Type": "application/x-www-form-urlencoded"}
    for delivery in h.stripe_http.get("/_sandbox/deliveries").json()["data"]:
        event = h.stripe_http.get(f"/v1/events/{delivery['event']}").json()
        if event["type"] == "checkout.session.completed" and event["data"]["object"]["id"] == h.session_id(payment):
            body = json.dumps(event).encode()
            return "/webhooks/stripe", body, {"Content-Type": "application/json", "Stripe-Signature": _sign(body)}
    raise AssertionError("the sandbox holds no checkout.session.completed event")


def _opened(h: Harness, **order: Any) -> dict[str, Any]:
    """A new checkout (via the first instance) the guest paid, its webhook held by the sandbox."""
    response = h.checkout(make_order(**order))
    assert response.status_code == 201, response.text
    payment = dict(response.json())
    h.complete(payment, "succeeded")
    return payment


def _feed_events(url: str, payment_id: str) -> list[str]:
    return [row[0] for row in _rows(url, "SELECT event FROM feed WHERE payment_id = %s ORDER BY seq", payment_id)]


# 1. the same webhook at two instances at the same moment -----------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_one_webhook_delivered_to_two_instances_at_the_same_moment_is_applied_once(
    tmp_path: Path, postgres_url: str, provider: str
) -> None:
    with (
        running_harness(tmp_path, database_url=postgres_url, provider=provider, pos=True, background=False) as h,
        h.second_instance(background=False) as b,
    ):
        h.sandbox_mode("hold")
        payment = _opened(h, donation_amount=200)
        path, body, headers = _held_webhook(h, payment)
        with _payment_row_locked(postgres_url, payment["payment_id"]) as blocker, ThreadPoolExecutor(2) as pool:
            answers = [
                pool.submit(httpx.post, url + path, content=body, headers=headers) for url in (h.service.url, b.url)
            ]
            # Both in flight together: one instance claimed the event and waits for the payment's row (held
            # here), the other waits on the first one's claim of the event id.
            waits = _waiting_on_locks(postgres_url, SERVICE, 2)
            assert not any(answer.done() for answer in answers), "an instance answered while both were waiting"
            blocker.commit()
            responses = [answer.result(timeout=30) for answer in answers]

        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        if provider == "stripe":
            assert sorted(r.json()["outcome"] for r in responses) == ["applied", "duplicate"], waits
        assert h.payment(payment["payment_id"])["status"] == "paid"
        assert _feed_events(postgres_url, payment["payment_id"]).count("payment.succeeded") == 1
        events = _rows(
            postgres_url,
            "SELECT event_id, outcome FROM integration_events WHERE payment_id = %s",
            payment["payment_id"],
        )
        assert [outcome for _, outcome in events] == ["applied"], events
        topics = Counter(row[0] for row in _rows(postgres_url, "SELECT topic FROM outbox"))
        assert topics == {PACKAGE_TOPIC: 1, PAYMENT_TOPIC: 1, DONATION_TOPIC: 1}, topics


# 2. the outbox drained by two instances -----------------------------------------------------------
ORDERS, STEPS = 30, 5


def test_two_instances_drain_one_outbox_each_row_once_and_every_order_in_order(postgres_url: str) -> None:
    with _repositories(postgres_url, 2) as instances:
        producer = instances[0]
        with producer.transaction():  # interleaved, so no order's rows are neighbours
            for step in range(STEPS):
                for order in range(ORDERS):
                    producer.enqueue("test.step", f"o{order}:{step}", None, {"order": order, "step": step}, f"o{order}")
        delivered = _drain_with(instances)

    assert Counter((order, step) for order, step, _ in delivered) == Counter(
        (order, step) for order in range(ORDERS) for step in range(STEPS)
    ), "a row missed or delivered twice"
    for order in range(ORDERS):
        assert [step for o, step, _ in delivered if o == order] == list(range(STEPS)), f"order o{order} out of order"
    assert {instance for _, _, instance in delivered} == {0, 1}, "one instance drained it all"
    shared = [o for o in range(ORDERS) if len({instance for o2, _, instance in delivered if o2 == o}) == 2]
    assert shared, "no order was handed from one instance to the other"  # so the order held across instances
    states = _rows(postgres_url, "SELECT state, count(*) FROM outbox GROUP BY state")
    assert states == [("done", ORDERS * STEPS)], states


def _drain_with(instances: list[Repository]) -> list[tuple[int, int, int]]:
    """Every instance's OutboxWorker draining the outbox at once, each in a thread of its own, until no row is
    left; returns (order, step, instance) of each delivery, in the order the handlers ran."""
    delivered: list[tuple[int, int, int]] = []
    recording = threading.Lock()
    start = threading.Barrier(len(instances))

    def drain(instance: int) -> None:
        repo = instances[instance]

        async def handle(payload: dict[str, Any]) -> None:
            with recording:
                delivered.append((payload["order"], payload["step"], instance))
            await asyncio.sleep(0)  # a delivery yields to the loop, as a real POS call does

        worker = OutboxWorker(repo, {"test.step": handle}, max_attempts=3)

        async def run() -> None:
            start.wait(timeout=10)
            # Until every row is done, by either instance: claimable rows may all be leased to the other.
            while await worker.run_once() or repo.outbox_rows(state="pending"):
                pass

        asyncio.run(run())

    with ThreadPoolExecutor(len(instances)) as pool:
        for done in [pool.submit(drain, instance) for instance in range(len(instances))]:
            done.result(timeout=60)
    return delivered


def test_a_row_whose_lease_ran_out_before_its_turn_is_left_to_the_instance_that_took_it_over(
    postgres_url: str,
) -> None:
    """A worker delivers its claimed rows one after another under one lease. When an early delivery outlasts
    the lease, another instance may take the later rows over: the first must then not deliver them as well
    (a POS sent the same package by two instances at once could book its dishes twice)."""
    deliveries: list[tuple[str, int]] = []
    in_the_pos, resume = threading.Event(), threading.Event()
    with _repositories(postgres_url, 2) as (slow, other), ThreadPoolExecutor(1) as pool:
        with slow.transaction():
            for order in range(2):
                slow.enqueue("test.step", f"o{order}", None, {"order": order}, f"o{order}")

        async def slow_delivers(payload: dict[str, Any]) -> None:
            deliveries.append(("slow", payload["order"]))
            if payload["order"] == 0:  # a POS call outlasting the lease
                in_the_pos.set()
                assert await asyncio.to_thread(resume.wait, 10)

        async def other_delivers(payload: dict[str, Any]) -> None:
            deliveries.append(("other", payload["order"]))

        slow_worker = OutboxWorker(slow, {"test.step": slow_delivers}, max_attempts=3, lease_seconds=0.2)
        taking_over = OutboxWorker(other, {"test.step": other_delivers}, max_attempts=3)
        batch = pool.submit(asyncio.run, slow_worker.run_once())
        assert in_the_pos.wait(timeout=10)
        # Once the slow one's lease has run out, the other instance claims both rows and delivers them.
        assert eventually(lambda: asyncio.run(taking_over.run_once()), message="the other instance taking over") == 2
        resume.set()
        batch.result(timeout=10)

    assert deliveries == [("slow", 0), ("other", 0), ("other", 1)], deliveries
    assert _rows(postgres_url, "SELECT state, count(*) FROM outbox GROUP BY state") == [("done", 2)]


# 3. an instance SIGKILLed while it holds outbox leases ---------------------------------------------
LEASE_SECONDS = 4.0
POS_DELAY_SECONDS = 1.0  # every POS command of the doomed instance answers this late (applied at once)
DISHES = [  # on the R-Keeper simulator's menu (resources/menu.json), R-Keeper counting thousandths
    {"sku": "MARG", "name": "Pizza margherita", "quantity": 2, "unit_amount": 950},
    {"sku": "TIRA", "name": "Tiramisu", "quantity": 1, "unit_amount": 690},
]


def _sim(h: Harness, path: str, method: str = "GET", **body: Any) -> Any:
    response = h.stripe_http.request(method, f"/_sandbox/rkeeper/{path}", **({"json": body} if body else {}))
    assert response.status_code == 200, response.text
    return response.json()


def _pos_orders_of(h: Harness, order_id: str) -> list[dict[str, Any]]:
    return [o for o in _sim(h, "orders") if o["props"].get("tablepay_order_id") == order_id]


def _dishes(pos_order: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for session in pos_order["sessions"]:
        for dish in session["dishes"]:
            counts[dish["code"]] += int(dish["quantity"])
    return counts


def test_an_instance_killed_holding_outbox_leases_is_taken_over_and_the_pos_books_the_order_once(
    tmp_path: Path, postgres_url: str
) -> None:
    with running_harness(tmp_path, database_url=postgres_url, pos=True, background=False) as h:
        order = make_order(lines=DISHES)
        payment = h.checkout(order).json()
        h.complete(payment, "succeeded")
        h.wait_status(payment["payment_id"], "paid")  # the order's package and payment are queued, in that order
        _sim(h, "faults", "POST", delay_next=100, delay_seconds=POS_DELAY_SECONDS)
        pos_env = {name.upper(): str(value) for name, value in client_settings(h.sandbox.url).items()}
        environment = {
            **{k: v for k, v in h.command_env().items() if k.startswith(("STRIPE_", "TABLEPAY_DONATION"))},
            **pos_env,
            "TABLEPAY_DATABASE_URL": postgres_url,
            "TABLEPAY_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        (tmp_path / "doomed").mkdir()
        with service_process(tmp_path / "doomed", kiosk_id="kiosk-doomed", **environment) as doomed:
            # Its outbox worker claims the package and sends it: GetOrder, CreateOrder, then SaveOrder with the
            # dishes, each applied at once and answered a second later. Killed once the dishes are in the POS.
            eventually(
                lambda: any(_dishes(o) for o in _pos_orders_of(h, order["order_id"])),
                timeout=20,
                interval=0.02,
                message="the doomed instance's dishes in the POS",
            )
            doomed.proc.send_signal(signal.SIGKILL)
            assert doomed.proc.wait(timeout=10) == -signal.SIGKILL
            killed_at = time.time()
        _sim(h, "faults", "DELETE")

        leased = _rows(
            postgres_url, "SELECT topic, state, lease_token, lease_until FROM outbox WHERE topic = %s", PACKAGE_TOPIC
        )
        [(_, state, token, until)] = leased
        assert state == "pending" and token is not None and until > killed_at, leased  # still the dead one's
        assert h.run_outbox() == 0  # nobody else may take it before its lease runs out

        def finished() -> bool:
            h.run_outbox()
            return not _rows(postgres_url, "SELECT id FROM outbox WHERE state != 'done'")

        eventually(finished, timeout=LEASE_SECONDS + 20, interval=0.1, message="the other instance finishing")

        [booked] = _pos_orders_of(h, order["order_id"])  # one POS order for the TablePay order
        assert _dishes(booked) == {"MARG": 2000, "TIRA": 1000}  # its dishes once, though sent by both
        assert booked["paid"] and len(booked["payments"]) == 1, booked
        assert h.pos_state(order["order_id"])["status"] == "paid"
        assert _rows(postgres_url, "SELECT count(*) FROM outbox WHERE state = 'dead'") == [(0,)]


# 4. the late-commit feed gap (shared/reference/postgres-scale-out.md, 2d) -----------------------------
def _record(order_id: str) -> PaymentRecord:
    now = utc_now()
    return payment_record(
        payment_id=f"pay-{order_id}", order_id=order_id, kiosk_id=KIOSK, status=PaymentStatus.PAID, paid_at=now
    )


def test_a_feed_row_committed_after_a_later_one_is_never_skipped_by_a_reader(postgres_url: str) -> None:
    appended, commit = threading.Event(), threading.Event()
    with _repositories(postgres_url, 3) as (first, second, reader), ThreadPoolExecutor(1) as pool:

        def late_writer() -> int:
            with second.transaction():
                seq = second.append_feed(_record("second"))
                appended.set()
                assert commit.wait(timeout=10)
            return seq

        with first.transaction():
            first_seq = first.append_feed(_record("first"))
            later: Future[int] = pool.submit(late_writer)
            # The second writer waits for the feed's counter row, which the first holds until its commit.
            _waiting_on_locks(postgres_url, SERVICE, 1)
            assert reader.feed_after(0, 100, KIOSK) == []  # neither row: not the later one before the earlier
        assert appended.wait(timeout=10)
        seen = reader.feed_after(0, 100, KIOSK)
        assert [(r["seq"], r["order_id"]) for r in seen] == [(first_seq, "first")]
        commit.set()
        second_seq = later.result(timeout=10)
        after_both = reader.feed_after(seen[-1]["seq"], 100, KIOSK)

    assert [(r["seq"], r["order_id"]) for r in after_both] == [(second_seq, "second")]
    assert second_seq == first_seq + 1  # dense: nothing to skip, nothing skipped


# 5. a long poll on one instance woken by a commit on the other -----------------------------------
ROUNDS = 7
WAKE_MEDIAN_SECONDS = 0.100
# One slow round on a busy machine is allowed; the 5 s recheck (a lost notification) is not.
WAKE_MAX_SECONDS = 1.0


def test_a_long_poll_on_one_instance_wakes_within_100_ms_of_a_commit_on_the_other(
    tmp_path: Path, postgres_url: str
) -> None:
    with (
        running_harness(tmp_path, database_url=postgres_url, background=False) as h,
        h.second_instance(background=False) as b,
        httpx.Client(base_url=b.url, timeout=30, headers={"Authorization": f"Bearer {h.token}"}) as kiosk_on_b,
        httpx.Client(base_url=h.service.url, timeout=30) as provider_to_a,  # built once: a new client costs ~15 ms
    ):
        h.sandbox_mode("hold")
        # Both instances LISTEN before the first commit (a notification sent before would be missed).
        eventually(
            lambda: len(_rows(postgres_url, LISTENING)) == 2,
            message="both instances listening",
        )
        from_webhook, from_answer = [], []
        for round_ in range(ROUNDS + 1):  # the first warms both up and is not counted
            payment = _opened(h)
            path, body, headers = _held_webhook(h, payment)
            params = {"after": 0, "limit": 500, "events": "all"}
            after = kiosk_on_b.get("/v1/events", params=params).json()["next_after"]

            def poll(after: int = after) -> tuple[list[dict[str, Any]], float]:
                response = kiosk_on_b.get("/v1/events", params={"after": after, "wait": 20, "events": "all"})
                return response.json()["events"], time.perf_counter()

            with ThreadPoolExecutor(1) as pool:
                polled = pool.submit(poll)
                eventually(lambda: b.app.state.feed.waiting(KIOSK) == 1, interval=0.005, message="B's poll waiting")
                sent = time.perf_counter()
                answer = provider_to_a.post(path, content=body, headers=headers)
                answered = time.perf_counter()
                events, woken = polled.result(timeout=30)
            assert answer.status_code == 200, answer.text
            assert [(e["payment_id"], e["event"]) for e in events] == [
                (payment["payment_id"], "payment.succeeded"),
                ("", "order.status"),  # the order's status moved in the same commit
            ]
            if round_:
                from_webhook.append(woken - sent)
                from_answer.append(woken - answered)

        figures = f"from the webhook's start {sorted(from_webhook)}, from A's answer {sorted(from_answer)}"
        assert statistics.median(from_webhook) < WAKE_MEDIAN_SECONDS, figures
        assert max(from_webhook) < WAKE_MAX_SECONDS, figures


# 6. four instances migrating at once -----------------------------------------------------------------
def test_four_instances_migrating_at_once_apply_each_migration_once(postgres_url: str) -> None:
    def boot(n: int) -> list[str]:
        with psycopg.connect(postgres_url, application_name=f"boot-{n}") as conn:
            return apply_migrations(conn)

    with psycopg.connect(postgres_url, autocommit=True) as holder, ThreadPoolExecutor(4) as pool:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))  # all four queue behind it
        booted = [pool.submit(boot, n) for n in range(4)]
        assert _waiting_on_locks(postgres_url, "boot-%", 4) == ["advisory"] * 4
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        applied = sorted(b.result(timeout=30) for b in booted)

    names = [name for name, _ in MIGRATIONS]
    assert applied == [[], [], [], names]  # one applied everything, three found it done
    assert sorted(_rows(postgres_url, "SELECT name FROM tablepay_migrations")) == [(name,) for name in names]
    with _repositories(postgres_url, 1) as (repo,):  # a fifth boot: nothing left to apply, the schema usable
        repo.add_kiosk("kiosk-after", "hash-after")
        assert repo.kiosk_for_token_hash("hash-after") == "kiosk-after"


# the reconciler runs on one instance at a time --------------------------------------------------------
def test_two_instances_sweeping_at_once_only_one_retrieves(tmp_path: Path, postgres_url: str) -> None:
    with (
        running_harness(tmp_path, database_url=postgres_url, background=False, reconcile_after_seconds=0) as h,
        h.second_instance(background=False) as b,
    ):
        h.sandbox_mode("drop")  # the webhook never comes: only a sweep can see the payment
        payment = h.checkout(make_order()).json()
        h.complete(payment, "succeeded")
        with _payment_row_locked(postgres_url, payment["payment_id"]) as blocker:
            sweeping = asyncio.run_coroutine_threadsafe(h.app.state.reconciler.sweep(), h.service.loop)
            # A holds the sweep's lock: it retrieved the checkout and waits to apply it.
            _waiting_on_locks(postgres_url, SERVICE, 1)
            assert b.run(b.app.state.reconciler.sweep(), timeout=10) == 0  # B skips its turn, retrieving nothing
            blocker.commit()
            assert sweeping.result(timeout=30) == 1
        assert h.payment(payment["payment_id"])["status"] == "paid"
        retrieved = _rows(
            postgres_url, "SELECT type FROM integration_events WHERE payment_id = %s", payment["payment_id"]
        )
        assert retrieved == [("refresh",)], retrieved


def test_one_refund_of_a_payment_at_a_time_whichever_instance_it_reaches(tmp_path: Path, postgres_url: str) -> None:
    with (
        running_harness(tmp_path, database_url=postgres_url, provider="mollie") as h,
        h.second_instance() as b,
    ):
        payment = h.paid()
        # Mollie answers A's refund late: while A waits, a manager's refund on B is told to wait.
        faults = h.provider.http.post("/_sandbox/mollie/faults", json={"delay_seconds": 2.0, "count": 1})
        assert faults.status_code == 200, faults.text
        with httpx.Client(base_url=b.url, headers={"Authorization": f"Bearer {h.token}"}, timeout=30) as on_b:
            slow = ThreadPoolExecutor(1).submit(h.refund, payment["payment_id"], 500, "on-a")
            eventually(
                lambda: _rows(postgres_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")[0][0] >= 1
            )
            refused = on_b.post(f"/v1/payments/{payment['payment_id']}/refunds", json={"amount": 500})
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "refund_in_progress"
            assert slow.result(timeout=30).status_code == 202
            # The lock is let go with the refund (another amount: Mollie refuses the same one within an hour).
            after = on_b.post(f"/v1/payments/{payment['payment_id']}/refunds", json={"amount": 700})
            assert after.status_code == 202, after.text
