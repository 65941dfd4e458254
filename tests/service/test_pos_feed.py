"""POS events in the kiosk feed (POST /v1/orders), with a POS that never answers: packages stay queued."""

from __future__ import annotations

from tests.support.harness import RKEEPER_PATH, make_order, running_harness
from tests.support.live_server import free_port


def test_the_first_package_announces_pos_queued_once(tmp_path):
    with running_harness(tmp_path, pos=True, rkeeper_url=f"http://127.0.0.1:{free_port()}{RKEEPER_PATH}",
                         outbox_max_attempts=100, outbox_backoff_base_seconds=60) as harness:
        order = make_order()
        first = harness.kiosk.post("/v1/orders", json=order)
        assert first.status_code == 202 and first.json()["package"] == 1, first.text
        more = {**order, "lines": [*order["lines"], {"sku": "TIRA", "name": "Tiramisù", "quantity": 1,
                                                       "unit_amount": 690}]}
        assert harness.kiosk.post("/v1/orders", json=more).json()["package"] == 2
        events = [(e["event"], e["pos_status"], e["order_id"]) for e in harness.feed()]
        assert events == [("pos.queued", "queued", order["order_id"])]
