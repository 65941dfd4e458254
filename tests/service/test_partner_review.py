"""Partners' defects found in review, each proven over real HTTP (tests/service/test_partners.py's world)."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync_service.services.partners import PartnerRefused, Partners, UrlPolicy
from sync_service.storage.db import open_database
from sync_service.storage.repository import Repository
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


class DribblingReceiver:
    """A receiver on 127.0.0.1 that reads the request and then answers one byte every 0.2 s, for ever."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"
        self.connections = 0
        self.stop = threading.Event()
        self.server = threading.Thread(target=self._serve, daemon=True)
        self.server.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\n" + b"x-slow: " + b"a" * 100_000
            for byte in answer:
                if self.stop.wait(0.2):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.server.join()
        self.sock.close()


def test_a_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_timeout(tmp_path: Path) -> None:
    # httpx's timeout is per read: a receiver sending a byte now and then held a delivery for ever (past
    # its lease, so it was claimed and sent again meanwhile). TABLEPAY_PARTNER_WEBHOOK_TIMEOUT is a whole
    # attempt's limit.
    slow = DribblingReceiver()
    try:
        with running_harness(
            tmp_path, allow_http_webhooks=True, partner_retry_time_factor=0.001, partner_webhook_timeout_seconds=1
        ) as h:
            new = h.app.state.partners.add("drip", slow.url)
            with httpx.Client(base_url=h.service.url, headers={"Authorization": f"Bearer {new.api_key}"}) as client:
                created = client.post("/v1/partner/orders", json=an_order()).json()
                h.complete(created, "succeeded")
                [row] = eventually(
                    lambda: [r for r in h.app.state.repo.partner_deliveries() if r["attempts"] >= 1] or None,
                    timeout=6,
                    message="the first attempt cut off",
                )
                assert "timeout" in row["last_error"]
    finally:
        slow.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::a9fe:a9fe]/latest",  # NAT64 of 169.254.169.254 (an IPv6-only network's gateway)
        "https://[64:ff9b::c0a8:101]/hooks",  # NAT64 of 192.168.1.1
        "https://[2002:a00:1::1]/hooks",  # 6to4 of 10.0.0.1
        "https://[::a9fe:a9fe]/latest",  # IPv4-compatible 169.254.169.254
        "https://[fec0::1]/hooks",  # site-local (deprecated, still routed in some networks)
    ],
)
def test_ipv6_forms_of_private_addresses_are_refused(tmp_path: Path, url: str) -> None:
    # ipaddress calls these global: the IPv4 address inside was never looked at.
    partners = Partners(Repository(open_database(tmp_path / "sync.sqlite")), UrlPolicy(True, False))
    with pytest.raises(PartnerRefused, match="not a public address"):
        partners.add("p", url)
    assert UrlPolicy(False, False).address_refusal("menu.example", ["64:ff9b::808:808"]) is None  # NAT64 of 8.8.8.8
