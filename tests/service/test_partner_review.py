"""Partners' defects found in review, each proven over real HTTP (tests/service/test_partners.py's world)."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

from tests.service.test_partners import an_order, partner
from tests.support.faulty_proxy import FaultyProxy
from tests.support.harness import running_harness
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually


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


def test_a_checkout_the_provider_could_not_open_can_be_tried_again(tmp_path: Path, database_url: str | None) -> None:
    # The provider's outage answered the partner 502; its retry (same Idempotency-Key, as a partner should)
    # was 409 "exists already" for good: the external id was spent on an order that could never be paid.
    proxy = FaultyProxy("http://127.0.0.1:9")  # pointed at the sandbox once the harness is up
    with LiveServer(proxy.app) as front:
        proxy.url = front.url
        with (
            running_harness(
                tmp_path,
                database_url=database_url,
                stripe_api_base=front.url,
                allow_http_webhooks=True,
                partner_retry_time_factor=0.001,
            ) as h,
            partner(h) as (client, _),
        ):
            proxy.upstreams = [h.sandbox.url]
            order = an_order()
            proxy.break_route("POST", "/v1/checkout/sessions", 500, b'{"error": {"message": "down"}}')
            down = client.post("/v1/partner/orders", json=order, headers={"Idempotency-Key": "k1"})
            assert down.status_code == 502, down.text
            proxy.fault = None
            again = client.post("/v1/partner/orders", json=order, headers={"Idempotency-Key": "k1"})
            assert again.status_code == 201, again.text
            created = again.json()
            assert created["checkout_url"] and created["payment_id"] != down.json()["error"]["payment_id"]
            state = client.get(f"/v1/partner/orders/{order['external_order_id']}").json()
            assert (state["payment_id"], state["payment_status"]) == (created["payment_id"], "open")
            h.complete(created, "succeeded")
            eventually(
                lambda: (
                    client.get(f"/v1/partner/orders/{order['external_order_id']}").json()["payment_status"] == "paid"
                    or None
                ),
                timeout=10,
            )
            # Once it opened, the external id is taken as before.
            assert client.post("/v1/partner/orders", json=order).status_code == 409
