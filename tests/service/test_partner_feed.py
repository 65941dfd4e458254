"""A partner's order belongs to the restaurant: its feed events reach every kiosk (with the partner's name
and the table), wake every kiosk's long poll, on one instance or another; a kiosk's own orders still
reach no other kiosk. Over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync_service.api.auth import issue_kiosk_token
from tests.service.test_partners import an_order, paid_order, partner, world
from tests.support.harness import Harness, make_order
from tests.support.waiting import eventually


def _feed(client: httpx.Client, after: int = 0, wait: float = 0) -> list[dict[str, Any]]:
    response = client.get("/v1/events", params={"after": after, "wait": wait, "limit": 500, "events": "all"})
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def _second_kiosk(h: Harness, base_url: str | None = None) -> httpx.Client:
    token = issue_kiosk_token(h.app.state.repo, "kiosk-2")
    return httpx.Client(base_url=base_url or h.service.url, timeout=30, headers={"Authorization": f"Bearer {token}"})


def test_a_partner_orders_events_reach_every_kiosk_and_a_kiosks_own_reach_no_other(
    tmp_path: Path, database_url: str | None
) -> None:
    with world(tmp_path, database_url) as h, partner(h, name="menu-app") as (client, _), _second_kiosk(h) as kiosk_2:
        own = h.paid()  # kiosk-1's own order, paid
        theirs = kiosk_2.post("/v1/checkouts", json=make_order(kiosk_id="kiosk-2"))
        assert theirs.status_code == 201, theirs.text
        at_table = paid_order(h, client)
        to_pick_up = an_order(pickup="A-12")
        del to_pick_up["table"]
        pickup = client.post("/v1/partner/orders", json=to_pick_up)
        assert pickup.status_code == 201, pickup.text

        for kiosk, own_payment, other_payment in (
            (h.kiosk, own["payment_id"], theirs.json()["payment_id"]),
            (kiosk_2, theirs.json()["payment_id"], own["payment_id"]),
        ):
            events = _feed(kiosk)
            payments = {e["payment_id"] for e in events}
            assert own_payment in payments and other_payment not in payments  # NO_LEAK between kiosks
            # (each order's own `order.status` events go the same way; its payments' are compared here)
            of_partner = [e for e in events if e.get("partner") and e["event"] != "order.status"]
            assert [(e["order_id"], e["event"]) for e in of_partner] == [
                (at_table["order_id"], "payment.created"),
                (at_table["order_id"], "payment.succeeded"),
                (pickup.json()["order_id"], "payment.created"),
            ]
            assert {(e["partner"], e["table"]) for e in of_partner} == {("menu-app", "7"), ("menu-app", "pickup A-12")}
            assert all(e["currency"] == "EUR" and e["amount_total"] == 2100 for e in of_partner)
            partner_orders = {e["order_id"] for e in of_partner}
            assert all("partner" not in e and "table" not in e for e in events if e["order_id"] not in partner_orders)
            assert all("kiosk_id" not in e for e in events)
        # The kiosks' reconciliation and an order's history know the partner's payment too.
        lookup = kiosk_2.post("/v1/payments/lookup", json={"payment_ids": [at_table["payment_id"], own["payment_id"]]})
        assert [p["payment_id"] for p in lookup.json()["payments"]] == [at_table["payment_id"]]
        assert kiosk_2.get(f"/v1/orders/{at_table['order_id']}/history").status_code == 200
        assert kiosk_2.get(f"/v1/orders/{own['order_id']}/history").status_code == 404


def _woken_by_a_partner_payment(h: Harness, client: httpx.Client, kiosk: httpx.Client, waiting: Any) -> float:
    """Seconds from the sandbox's payment to the answer of a kiosk's long poll that was waiting."""
    created = client.post("/v1/partner/orders", json=an_order()).json()
    after = _feed(kiosk)[-1]["seq"]
    with ThreadPoolExecutor(1) as pool:
        polled = pool.submit(lambda: (_feed(kiosk, after, wait=20), time.perf_counter()))
        eventually(lambda: waiting() == 1, interval=0.005, message="the kiosk's poll waiting")
        sent = time.perf_counter()
        h.complete(created, "succeeded")
        events, woken = polled.result(timeout=30)
    assert [(e["payment_id"], e["event"], e["partner"]) for e in events if e["event"] != "order.status"] == [
        (created["payment_id"], "payment.succeeded", "qrmenu")
    ]
    return woken - sent


def test_a_partner_payment_wakes_another_kiosks_long_poll(tmp_path: Path, database_url: str | None) -> None:
    with world(tmp_path, database_url) as h, partner(h) as (client, _), _second_kiosk(h) as kiosk_2:
        elapsed = _woken_by_a_partner_payment(h, client, kiosk_2, lambda: h.app.state.feed.waiting("kiosk-2"))
        assert elapsed < 3, elapsed  # woken, not the 20 s deadline


@pytest.mark.postgres
def test_a_partner_payment_wakes_a_kiosks_poll_on_another_instance(tmp_path: Path, postgres_url: str) -> None:
    """The NOTIFY names `partner:qrmenu`: the other instance wakes every poll, before its 5 s recheck."""
    with (
        world(tmp_path, postgres_url) as h,
        partner(h) as (client, _),
        h.second_instance() as b,
        _second_kiosk(h, b.url) as kiosk_2_on_b,
    ):
        elapsed = _woken_by_a_partner_payment(h, client, kiosk_2_on_b, lambda: b.app.state.feed.waiting("kiosk-2"))
        assert elapsed < 3, elapsed
