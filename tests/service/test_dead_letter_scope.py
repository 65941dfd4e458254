"""Dead letters: a manager token sees and retries this restaurant's, no other token sees any.

One sync service serves one restaurant (chain mode comes later), so "this restaurant's" are the
rows whose payment or order this service's database knows; a row naming neither is not shown.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from sync_service.api.auth import issue_kiosk_token
from tests.support.harness import Harness, make_order, running_harness
from tests.support.waiting import eventually

DISHES = [{"sku": "MARG", "name": "Pizza margherita", "quantity": 1, "unit_amount": 950}]


def _park(h: Harness, where: str, *args: Any) -> None:
    """Park a delivered row as if it had failed for good (the sandbox cannot make a transfer fail)."""
    with h.db() as conn:
        conn.execute(f"UPDATE outbox SET state = 'dead', last_error = 'parked by the test' WHERE {where}", args)


def test_dead_letters_are_a_managers_and_only_of_known_orders(tmp_path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        repo = h.app.state.repo
        till = httpx.Client(
            base_url=h.service.url, timeout=30, headers={"Authorization": f"Bearer {issue_kiosk_token(repo, 'till-1')}"}
        )
        # A paid order of another kiosk with a donation: its transfer to the partner is a restaurant's row too.
        order = make_order(kiosk_id="till-1", lines=DISHES, donation_amount=100)
        payment = till.post("/v1/checkouts", json=order).json()
        h.complete(payment, "succeeded")
        eventually(
            lambda: repo.outbox_rows("donation.transfer", state="done"), timeout=15, message="the donation transferred"
        )
        _park(h, "topic = 'donation.transfer'")
        # A POS step of the manager kiosk's order that the POS refuses for good (a dish it does not know).
        unknown_dish = make_order(lines=[{"sku": "NOPE", "name": "Unknown dish", "quantity": 1, "unit_amount": 500}])
        assert h.kiosk.post("/v1/orders", json=unknown_dish).status_code == 202
        eventually(lambda: repo.outbox_rows("pos.package", state="dead"), timeout=15, message="the POS step parked")
        # A row of no payment or order this service knows (as another restaurant's would be).
        with h.db() as conn:
            conn.execute(
                "INSERT INTO outbox (topic, dedupe_key, payment_id, payload, state, next_attempt_at, "
                "created_at, ordering_key) VALUES ('donation.transfer', 'donation:pay_elsewhere', "
                "'pay_elsewhere', ?, 'dead', 0, '2026-01-01T00:00:00Z', 'donation:pay_elsewhere')",
                (json.dumps({"payment_id": "pay_elsewhere", "order_id": "ord-elsewhere"}),),
            )
            [(foreign_id,)] = conn.execute("SELECT id FROM outbox WHERE payment_id = 'pay_elsewhere'").fetchall()

        for response in (till.get("/v1/outbox/dead-letters"), till.post(f"/v1/outbox/{foreign_id}/retry")):
            assert response.status_code == 403, response.text
            assert "manager token" in response.json()["error"]["message"]
        till.close()
        shown = h.kiosk.get("/v1/outbox/dead-letters")
        assert shown.status_code == 200, shown.text
        assert sorted(row["topic"] for row in shown.json()) == ["donation.transfer", "pos.package"]
        assert foreign_id not in {row["id"] for row in shown.json()}
        assert h.kiosk.post(f"/v1/outbox/{foreign_id}/retry").status_code == 404
        assert repo.outbox_rows(row_id=foreign_id)[0]["state"] == "dead"  # untouched
        [donation] = [row for row in shown.json() if row["topic"] == "donation.transfer"]
        retried = h.kiosk.post(f"/v1/outbox/{donation['id']}/retry")
        assert retried.status_code == 200 and retried.json()["state"] == "pending"
        eventually(
            lambda: repo.outbox_rows(row_id=donation["id"])[0]["state"] == "done",
            timeout=15,
            message="the retry delivered",
        )
        assert len(h.state()["donation_transfers"]) == 1  # idempotent: the partner got the donation once
