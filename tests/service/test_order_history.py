"""An order's attempts with the provider events that moved them, for the manager's order detail."""

from __future__ import annotations

from tests.support.harness import Harness, make_order


def test_history_lists_each_attempt_with_the_events_that_moved_it(harness: Harness) -> None:
    order = make_order()
    declined = harness.checkout(order).json()
    harness.complete(declined, "failed")
    harness.wait_status(declined["payment_id"], "failed")
    paid = harness.checkout(order).json()
    harness.complete(paid, "succeeded")
    harness.wait_status(paid["payment_id"], "paid")
    response = harness.kiosk.get(f"/v1/orders/{order['order_id']}/history")
    assert response.status_code == 200, response.text
    first, second = response.json()["attempts"]
    assert (first["attempt"], first["status"], second["attempt"], second["status"]) == (1, "failed", 2, "paid")
    moved = lambda attempt: [e["type"] for e in attempt["events"] if e["outcome"] == "applied"]
    assert moved(first) == ["payment_intent.payment_failed"]
    assert moved(second) in (["payment_intent.succeeded"], ["checkout.session.completed"])
    assert all(e["event_id"].startswith("evt_") for e in second["events"])
    assert harness.kiosk.get("/v1/orders/nope/history").status_code == 404
