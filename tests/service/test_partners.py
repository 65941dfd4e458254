"""Partners end to end over real HTTP: orders with an API key, and signed, retried, replayable webhooks to a
receiver on 127.0.0.1 that verifies every delivery with the `standardwebhooks` package."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync_service.services.partners import PartnerRefused, Partners, UrlPolicy
from tests.support.harness import Harness, running_harness
from tests.support.live_server import LiveServer, bound_socket
from tests.support.partner_receiver import Receiver
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
DISHES = [{"sku": "MARG", "name": "Pizza margherita", "quantity": 2, "unit_amount": 950}]  # resources/menu.json


def an_order(**changes: Any) -> dict[str, Any]:
    order = {
        "external_order_id": f"qr-{uuid.uuid4().hex[:8]}",
        "currency": "EUR",
        "lines": DISHES,
        "tip_amount": 200,
        "donation_amount": 0,
        "table": "7",
        "return_url": "https://menu.example/thanks",
        "cancel_url": "https://menu.example/cart",
    }
    order.update(changes)
    return order


@contextmanager
def world(tmp_path: Path, database_url: str | None = None) -> Iterator[Harness]:
    with running_harness(
        tmp_path, database_url=database_url, allow_http_webhooks=True, partner_retry_time_factor=0.001
    ) as h:
        yield h


@contextmanager
def partner(
    h: Harness, receiver: Receiver | None = None, name: str = "qrmenu", **add: Any
) -> Iterator[tuple[httpx.Client, Receiver]]:
    """A partner whose webhooks go to a live receiver (added with its secret); its API client."""
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
    new = h.app.state.partners.add(name, url, **add)
    receiver = receiver or Receiver([])
    receiver.secrets.insert(0, new.secret)
    with (
        LiveServer(receiver, sock=sock),
        httpx.Client(base_url=h.service.url, headers={"Authorization": f"Bearer {new.api_key}"}, timeout=30) as client,
    ):
        yield client, receiver


def paid_order(h: Harness, client: httpx.Client, **changes: Any) -> dict[str, Any]:
    order = an_order(**changes)
    response = client.post("/v1/partner/orders", json=order)
    assert response.status_code == 201, response.text
    created = response.json()
    h.complete(created, "succeeded")
    path = f"/v1/partner/orders/{order['external_order_id']}"
    eventually(lambda: client.get(path).json()["payment_status"] == "paid" or None, timeout=10, message="paid")
    return dict(created)


def test_a_partner_order_paid_end_to_end(tmp_path: Path, database_url: str | None) -> None:
    with world(tmp_path, database_url) as h, partner(h, bearer_token="menu-app-secret") as (client, receiver):
        order = an_order()
        response = client.post("/v1/partner/orders", json=order)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["amount_total"] == 2 * 950 + 200 and created["checkout_url"] and created["expires_at"]
        h.complete(created, "succeeded")
        [delivery] = eventually(lambda: receiver.deliveries or None, timeout=15, message="the webhook")
        assert delivery.verified_by == [0]
        assert delivery.headers["authorization"] == "Bearer menu-app-secret"
        body = json.loads(delivery.body)
        assert body["type"] == "payment.succeeded" and body["timestamp"]
        data = body["data"]
        assert data["event_id"] == delivery.headers["webhook-id"] and data["event"] == "payment.succeeded"
        assert data["external_order_id"] == order["external_order_id"]
        assert (data["amount_total"], data["currency"], data["order_status"]) == (2100, "EUR", "paid")
        assert data["paid_at"] and data["payment_intent_id"]
        state = client.get(f"/v1/partner/orders/{order['external_order_id']}").json()
        assert (state["payment_status"], state["paid_at"], state["payment_intent_id"]) == (
            "paid",
            data["paid_at"],
            data["payment_intent_id"],
        )
        # The receiver of docs/partners.md accepts the delivery, once, and refuses a changed byte.
        spec = importlib.util.spec_from_file_location(
            "partner_receiver_doc", ROOT / "docs/examples/partner_receiver.py"
        )
        assert spec and spec.loader
        doc = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(doc)
        assert doc.receive(receiver.secrets[0], delivery.headers, delivery.body) == 200
        assert doc.receive(receiver.secrets[0], delivery.headers, delivery.body) == 200
        assert doc.seen == {delivery.headers["webhook-id"]}
        assert doc.receive(receiver.secrets[0], delivery.headers, delivery.body.replace(b"2100", b"2101")) == 401
        assert doc.receive(receiver.secrets[0], {**delivery.headers, "webhook-timestamp": "1000"}, delivery.body) == 400


def test_two_500s_then_200_are_three_deliveries_of_the_same_bytes(tmp_path: Path, database_url: str | None) -> None:
    receiver = Receiver([], answer=lambda n: (500, {}) if n <= 2 else (200, {}))
    with world(tmp_path, database_url) as h, partner(h, receiver) as (client, _):
        paid_order(h, client)
        eventually(lambda: len(receiver.deliveries) == 3 or None, timeout=15, message="three deliveries")
        eventually(lambda: h.app.state.repo.partner_deliveries()[0]["state"] == "done" or None, timeout=5)
        assert len(set(receiver.ids())) == 1
        assert len({d.body for d in receiver.deliveries}) == 1
        assert all(d.verified_by == [0] for d in receiver.deliveries)
        assert h.app.state.repo.partner_deliveries()[0]["attempts"] == 3


def test_a_receiver_down_a_while_catches_up(tmp_path: Path) -> None:
    with world(tmp_path) as h:
        sock = bound_socket()  # bound, not listening yet: connections are refused
        new = h.app.state.partners.add("down", f"http://127.0.0.1:{sock.getsockname()[1]}/hooks")
        receiver = Receiver([new.secret])
        with httpx.Client(base_url=h.service.url, headers={"Authorization": f"Bearer {new.api_key}"}) as client:
            orders = [paid_order(h, client) for _ in range(3)]
            eventually(
                lambda: all(r["attempts"] >= 2 for r in h.app.state.repo.partner_deliveries()) or None,
                timeout=15,
                message="failed tries while the receiver is down",
            )
            with LiveServer(receiver, sock=sock):
                eventually(lambda: len(set(receiver.ids())) == 3 or None, timeout=20, message="caught up")
        assert {json.loads(d.body)["data"]["event"] for d in receiver.deliveries} == {"payment.succeeded"}
        assert len(orders) == 3 and all(d.verified_by == [0] for d in receiver.deliveries)


def test_410_disables_the_endpoint_and_a_replay_from_the_failed_list_sends_the_same_bytes(
    tmp_path: Path, database_url: str | None
) -> None:
    gone = {"yes": True}
    receiver = Receiver([], answer=lambda n: (410, {}) if gone["yes"] else (200, {}))
    with world(tmp_path, database_url) as h, partner(h, receiver) as (client, _):
        paid_order(h, client)
        eventually(lambda: h.app.state.repo.partner("qrmenu").disabled_at or None, timeout=15, message="disabled")
        paid_order(h, client)  # its delivery is given up without being sent
        failed = eventually(
            lambda: (
                (f := h.kiosk.get("/v1/partners/deliveries", params={"failed": "true"}).json())["deliveries"][1:] and f
            ),
            timeout=15,
        )
        assert len(receiver.deliveries) == 1
        assert failed["partners"][0]["disabled_reason"] == "the receiver answered 410 Gone"
        first = failed["deliveries"][-1]
        gone["yes"] = False
        replayed = h.kiosk.post(f"/v1/partners/deliveries/{first['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        eventually(lambda: len(receiver.deliveries) == 2 or None, timeout=15, message="the replay")
        assert receiver.deliveries[1].body == receiver.deliveries[0].body
        assert receiver.ids() == [first["event_id"]] * 2 and receiver.deliveries[1].verified_by == [0]
        assert h.app.state.repo.partner("qrmenu").disabled_at is None
        assert h.kiosk.post(f"/v1/partners/deliveries/{first['id']}/replay").status_code == 404


def test_after_a_rotation_either_secret_verifies(tmp_path: Path) -> None:
    with world(tmp_path) as h, partner(h) as (client, receiver):
        new_secret = h.app.state.partners.rotate_secret("qrmenu")
        receiver.secrets.append(new_secret)
        paid_order(h, client)
        [delivery] = eventually(lambda: receiver.deliveries or None, timeout=15)
        assert delivery.verified_by == [0, 1]  # the old secret and the new one
        assert len(delivery.headers["webhook-signature"].split()) == 2


def test_partner_keys_and_kiosk_tokens_reach_only_their_own_endpoints(tmp_path: Path) -> None:
    with world(tmp_path) as h, partner(h) as (client, _):
        orders = "/v1/partner/orders"
        assert httpx.post(h.service.url + orders, json=an_order()).status_code == 401
        bad = httpx.post(h.service.url + orders, json=an_order(), headers={"Authorization": "Bearer tpp_nope"})
        assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
        assert h.kiosk.post(orders, json=an_order()).status_code == 403
        assert h.kiosk.get(f"{orders}/x").status_code == 403
        for method, path in (("GET", "/v1/kiosk"), ("GET", "/v1/events?wait=0"), ("GET", "/v1/partners/deliveries")):
            assert client.request(method, path).status_code == 403, path
        assert client.get("/v1/partner/orders/never").status_code == 404


def test_an_idempotency_key_replays_its_answer_and_refuses_another_body(
    tmp_path: Path, database_url: str | None
) -> None:
    with world(tmp_path, database_url) as h, partner(h) as (client, _):
        order = an_order()
        first = client.post("/v1/partner/orders", json=order, headers={"Idempotency-Key": "k1"})
        again = client.post("/v1/partner/orders", json=order, headers={"Idempotency-Key": "k1"})
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        other = client.post("/v1/partner/orders", json={**order, "tip_amount": 300}, headers={"Idempotency-Key": "k1"})
        assert other.status_code == 422 and "Idempotency-Key" in other.text
        assert client.post("/v1/partner/orders", json=order).status_code == 409  # its external id is taken


def test_a_price_that_is_not_the_menus_is_refused_naming_the_dish(tmp_path: Path) -> None:
    with world(tmp_path) as h, partner(h) as (client, _):
        wrong = [{**DISHES[0], "unit_amount": 900}]
        response = client.post("/v1/partner/orders", json=an_order(lines=wrong))
        assert response.status_code == 422
        message = response.json()["error"]["message"]
        assert "Pizza margherita" in message and "9.50" in message and "9.00" in message
        unknown = [{"sku": "CAVIAR", "name": "Caviar", "quantity": 1, "unit_amount": 9900}]
        assert client.post("/v1/partner/orders", json=an_order(lines=unknown)).status_code == 422


@pytest.mark.parametrize(
    ("url", "allow_http", "allow_private"),
    [
        ("http://menu.example/hooks", True, True),  # http to anything but loopback, whatever is allowed
        ("http://127.0.0.1:9/hooks", False, False),  # loopback http without TABLEPAY_ALLOW_HTTP_WEBHOOKS
        ("https://127.0.0.1/hooks", False, False),
        ("https://localhost/hooks", False, False),  # a name resolving to loopback
        ("https://10.1.2.3/hooks", True, False),  # private
        ("https://192.168.1.1/hooks", True, False),
        ("https://169.254.169.254/latest", True, False),  # link-local: a cloud's metadata service
        ("https://[fd00::1]/hooks", True, False),
        ("https://100.64.0.1/hooks", True, False),  # shared address space
        ("ftp://menu.example/hooks", True, True),
        ("https://user:pw@menu.example/hooks", True, True),
    ],
)
def test_http_and_private_webhook_urls_are_refused(
    tmp_path: Path, url: str, allow_http: bool, allow_private: bool
) -> None:
    from sync_service.storage.db import open_database
    from sync_service.storage.repository import Repository

    partners = Partners(Repository(open_database(tmp_path / "sync.sqlite")), UrlPolicy(allow_http, allow_private))
    with pytest.raises(PartnerRefused):
        partners.add("p", url)
    assert partners.all() == []


def test_allowed_webhook_urls() -> None:
    assert UrlPolicy(True, False).refusal("http://127.0.0.1:8080/hooks") is None
    assert UrlPolicy(False, True).refusal("https://10.1.2.3/hooks") is None
    assert UrlPolicy(False, False).address_refusal("menu.example", ["93.184.216.34"]) is None
    assert UrlPolicy(False, False).address_refusal("menu.example", ["93.184.216.34", "10.0.0.1"])  # any one refuses


def test_a_slow_receiver_delays_neither_other_partners_nor_the_kiosks(tmp_path: Path) -> None:
    slow = Receiver([], delay=4.0)
    with world(tmp_path) as h, partner(h, slow, "slow") as (slow_client, _), partner(h, name="quick") as (quick, fast):
        for _ in range(6):  # more than its concurrency: its deliveries queue behind each other
            paid_order(h, slow_client)
        eventually(lambda: slow.deliveries or None, timeout=10, message="the slow receiver is being called")
        started = time.monotonic()
        paid_order(h, quick)
        paid = h.paid()  # a kiosk's payment meanwhile
        eventually(lambda: fast.deliveries or None, timeout=3, message="the other partner's webhook")
        assert time.monotonic() - started < 3 and paid["status"] == "paid"


def test_add_partner_prints_the_key_and_secret_once_and_stores_only_the_keys_hash(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TABLEPAY_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "TABLEPAY_ALLOW_HTTP_WEBHOOKS": "true",
    }
    tablepay = [sys.executable, "-m", "tablepay", "sync"]
    add = [*tablepay, "add-partner", "menu", "--webhook-url", "http://127.0.0.1:9/hooks", "--bearer-token", "tok"]
    out = subprocess.run(add, env=env, capture_output=True, text=True, check=True, timeout=60).stdout
    key = re.search(r"tpp_[\w-]+", out)
    secret = re.search(r"whsec_[\w+/=]+", out)
    assert key and secret and len(base64.b64decode(secret.group()[6:])) == 32
    listed = subprocess.run([*tablepay, "partners"], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert "menu" in listed.stdout and key.group() not in listed.stdout and secret.group() not in listed.stdout
    with sqlite3.connect(tmp_path / "sync.sqlite") as db:
        stored = " ".join(str(v) for row in db.execute("SELECT * FROM partners") for v in row)
    assert key.group() not in stored and hashlib.sha256(key.group().encode()).hexdigest() in stored
    refused = subprocess.run(
        [*tablepay, "add-partner", "lan", "--webhook-url", "http://192.168.1.10/hooks"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "https" in refused.stderr
    gone = subprocess.run([*tablepay, "remove", "menu"], env=env, capture_output=True, text=True, timeout=60)
    assert gone.returncode == 0
