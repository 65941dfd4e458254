"""One Idempotency-Key, many requests at the same moment, over real HTTP: the key is claimed once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.harness import Harness, make_order


def _at_once(h: Harness, orders: list[dict[str, Any]], key: str) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=h.service.url, timeout=30, headers={"Authorization": f"Bearer {h.token}"}
        ) as client:
            return list(
                await asyncio.gather(
                    *(client.post("/v1/checkouts", json=order, headers={"Idempotency-Key": key}) for order in orders)
                )
            )

    return asyncio.run(run())


def _sessions(h: Harness) -> list[dict[str, Any]]:
    return list(h.stripe_http.get("/v1/checkout/sessions", params={"limit": 100}).json()["data"])


def test_one_key_reused_for_six_orders_at_once_opens_one_checkout(harness: Harness) -> None:
    responses = _at_once(harness, [make_order() for _ in range(6)], "key-race")
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, [(r.status_code, r.text) for r in responses]
    assert set(statuses) - {201} <= {409, 422}, statuses
    for refused in (r for r in responses if r.status_code != 201):
        assert "Idempotency-Key" in refused.json()["error"]["message"]
    assert len(_sessions(harness)) == 1
    assert len(harness.state()["payments"]) == 1


def test_the_same_request_six_times_at_once_gets_one_answer(harness: Harness) -> None:
    order = make_order()
    responses = _at_once(harness, [order] * 6, "key-same")
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["payment_id"] for r in responses}) == 1
    assert len(_sessions(harness)) == 1 and len(harness.state()["payments"]) == 1


def test_a_refused_request_gives_its_key_back(harness: Harness) -> None:
    order = make_order()
    live = harness.checkout(order).json()  # an attempt without a key is open: the next one is refused
    refused = harness.checkout(order, **{"Idempotency-Key": "key-after-409"})
    assert refused.status_code == 409, refused.text
    assert harness.kiosk.post(f"/v1/payments/{live['payment_id']}/cancel").status_code == 200
    again = harness.checkout(order, **{"Idempotency-Key": "key-after-409"})
    assert again.status_code == 201, again.text
    assert again.json()["attempt"] == 2
    assert harness.checkout(order, **{"Idempotency-Key": "key-after-409"}).json() == again.json()


def test_a_key_left_in_progress_by_a_dead_process_is_resumed(harness: Harness) -> None:
    order = make_order()
    first = harness.checkout(order, **{"Idempotency-Key": "key-crash"}).json()
    with harness.db() as conn:  # as if the service died after the claim, before the answer was stored
        conn.execute("UPDATE idempotent_requests SET state = 'in_progress', status_code = 0, response = 'null'")
    again = harness.checkout(order, **{"Idempotency-Key": "key-crash"})
    assert again.status_code == 201, again.text
    assert again.json()["payment_id"] == first["payment_id"]
    assert len(_sessions(harness)) == 1
