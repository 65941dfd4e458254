"""Donation transfers happen once; the reconciliation loop repairs missed webhooks."""

from tests.support.harness import Harness, make_order, running_harness
from tests.support.payment_store import payment_record
from tests.support.waiting import eventually


def test_no_donation_no_transfer(harness: Harness):
    payment = harness.checkout(make_order(donation_amount=0)).json()
    harness.complete(payment, "succeeded")
    harness.wait_status(payment["payment_id"], "paid")
    harness.webhooks_settled()  # every event of the payment applied: none of them queued anything
    assert harness.state()["outbox"] == []


def test_donations_are_refused_when_no_partner_account_is_configured(tmp_path):
    with running_harness(tmp_path, donation_account=None) as harness:
        response = harness.checkout(make_order(donation_amount=100))
        assert response.status_code == 422
        assert "does not take donations" in response.json()["error"]["message"]


def test_reconciliation_leaves_unpaid_open_checkouts_open(tmp_path):
    with running_harness(tmp_path, background=False, reconcile_after_seconds=0) as harness:
        payment = harness.checkout(make_order()).json()
        reconciler = harness.app.state.reconciler

        def updated_at() -> str:
            with harness.db() as conn:
                return str(
                    conn.execute(
                        "SELECT updated_at FROM payments WHERE payment_id = ?", (payment["payment_id"],)
                    ).fetchone()[0]
                )

        created = updated_at()

        def swept() -> bool:
            # A sweep asks the provider about every live attempt older than the cutoff (here: any, once
            # the clock's millisecond has moved on) and touches the ones that did not change.
            assert harness.service.run(reconciler.sweep()) == 0
            return updated_at() > created

        eventually(swept, message="a sweep refreshing the open checkout")
        assert harness.service.run(reconciler.sweep()) == 0
        assert harness.payment(payment["payment_id"])["status"] == "open"


def test_an_attempt_orphaned_by_a_crash_is_failed_so_the_order_can_be_retried(tmp_path):
    with running_harness(tmp_path) as harness:
        order = make_order()
        with harness.db() as conn:  # what a crash between our insert and the Stripe call leaves behind
            conn.execute(
                "INSERT INTO orders (order_id, kiosk_id, currency, table_label, waiter, snapshot, created_at, "
                "updated_at) VALUES (?, 'kiosk-1', 'EUR', '12', 'Ana', '{}', ?, ?)",
                (order["order_id"], "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
            )
            values = payment_record(
                payment_id="pay_orphan",
                order_id=order["order_id"],
                kiosk_id="kiosk-1",
                dish_subtotal=2800,
                tip_amount=280,
                amount_total=3080,
                idempotency_key="lost",
                created_at="2026-01-01T00:00:00+00:00",
                updated_at="2026-01-01T00:00:00+00:00",
            )
            columns = list(values.__dataclass_fields__)
            row = [getattr(values, c) for c in columns]
            row[columns.index("status")] = "open"
            conn.execute(f"INSERT INTO payments ({', '.join(columns)}) VALUES ({', '.join('?' * len(row))})", row)
        assert harness.checkout(order).status_code == 409
        harness.service.run(harness.app.state.reconciler.sweep())
        assert harness.payment("pay_orphan")["status"] == "failed"
        retry = harness.checkout(order)
        assert retry.status_code == 201 and retry.json()["attempt"] == 2


def test_webhooks_and_reconciliation_racing_apply_the_payment_once(tmp_path):
    import asyncio

    with running_harness(tmp_path, background=False) as harness:  # the test runs the sweep and the outbox
        harness.sandbox_mode("hold")
        payment = harness.checkout(make_order(donation_amount=200)).json()
        harness.complete(payment, "succeeded")
        app = harness.app

        async def race() -> None:
            # The held webhooks, several refreshes and a sweep, all at the same moment.
            release = asyncio.to_thread(harness.stripe_http.post, "/_sandbox/deliveries/release")
            refreshes = [app.state.checkouts.refresh(payment["payment_id"], None) for _ in range(5)]
            await asyncio.gather(release, *refreshes, app.state.reconciler.sweep())

        harness.service.run(race())
        harness.wait_status(payment["payment_id"], "paid")
        harness.sandbox_mode("deliver")
        harness.run_outbox()  # the donation transfer, and its webhook
        harness.webhooks_settled()  # the late webhooks have all arrived
        events = [e["event"] for e in harness.feed() if e["payment_id"] == payment["payment_id"]]
        assert events == ["payment.created", "payment.succeeded"]
        with harness.db() as conn:
            assert conn.execute("SELECT count(*) FROM outbox WHERE topic = 'donation.transfer'").fetchone()[0] == 1
