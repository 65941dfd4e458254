"""Partners' defects found in review, each proven over real HTTP (tests/service/test_partners.py's world)."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

from tests.service.test_partners import an_order, partner
from tests.support.harness import running_harness


def test_one_external_order_id_posted_at_once_is_one_201_and_409s_never_a_500(
    tmp_path: Path, database_url: str | None
) -> None:
    # With the POS as the menu source the price check awaits the POS: two requests for one external id
    # both passed the "exists already?" look, and the second died on partner_orders' key (a 500).
    with (
        running_harness(
            tmp_path, pos=True, database_url=database_url, allow_http_webhooks=True, partner_retry_time_factor=0.001
        ) as h,
        partner(h) as (client, _),
    ):
        item = h.kiosk.get("/v1/menu", params={"currency": "EUR"}).json()["categories"][0]["items"][0]
        order: dict[str, Any] = an_order(
            lines=[{"sku": item["sku"], "name": item["name"], "quantity": 1, "unit_amount": item["unit_amount"]}]
        )
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: client.post("/v1/partner/orders", json=order), range(4)))
        assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
        state = client.get(f"/v1/partner/orders/{order['external_order_id']}").json()
        [created] = [a.json() for a in answers if a.status_code == 201]
        assert state["payment_id"] == created["payment_id"]
