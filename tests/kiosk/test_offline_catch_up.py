"""A kiosk that was offline while many payments happened catches up from its cursor: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pos_app.client import SyncClient
from pos_app.feed import FeedWorker
from pos_app.store import KioskStore, open_db
from tests.support.harness import make_order, running_harness

PAYMENTS = 60


def test_offline_kiosk_catches_up_from_its_cursor(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        store = KioskStore(open_db(tmp_path / "kiosk.sqlite"))
        orders = [make_order(order_id=f"off-{n:03d}") for n in range(PAYMENTS)]
        for order in orders:
            store.create_order(order["order_id"], order["table"], "EUR")

        async def poll_until_caught_up(worker: FeedWorker) -> int:
            pages = 0
            while await worker.poll_once(wait=0) or pages == 0:
                pages += 1
            return pages

        async def catch_up() -> int:
            client = SyncClient(h.service.url, h.token, timeout=10)
            try:
                return await poll_until_caught_up(FeedWorker(client, store, wait=0))
            finally:
                await client.aclose()

        # The first half while the kiosk is online, then it goes away for the rest.
        outcomes = {}
        for n, order in enumerate(orders):
            payment = h.checkout(order).json()
            outcome = "succeeded" if n % 4 else "failed"
            h.complete(payment, outcome)
            outcomes[order["order_id"]] = (payment["payment_id"], "paid" if n % 4 else "failed")
            if n == PAYMENTS // 2:
                asyncio.run(catch_up())
        for payment_id, status in outcomes.values():
            h.wait_status(payment_id, status)

        asyncio.run(catch_up())  # back online: from the stored cursor, in pages
        service_events: list[dict] = []
        while page := h.feed(after=service_events[-1]["seq"] if service_events else 0):
            service_events += page
        paid = sum(status == "paid" for _, status in outcomes.values())
        # created, then paid or failed; a paid one's order status moves to paid (a failed one's stays)
        assert len(service_events) == 2 * PAYMENTS + paid
        with store.db.conn:
            applied = store.db.execute("SELECT count(*), count(DISTINCT event_id) FROM applied_events").fetchone()
        assert applied == (len(service_events), len(service_events))  # every event once
        assert store.cursor() == service_events[-1]["seq"]
        for order_id, (_, status) in outcomes.items():
            assert store.latest_attempt(order_id).status.value == status, order_id
            assert store.order(order_id).is_paid == (status == "paid")
            assert store.order(order_id).service_status == ("paid" if status == "paid" else None)

        # A restart re-reads the whole page again (say the cursor write was lost): still nothing twice.
        assert store.apply_events(service_events, service_events[-1]["seq"]) == []
        assert store.db.execute("SELECT count(*) FROM applied_events").fetchone()[0] == len(service_events)
