"""POS sync end to end: kiosk → sync service → outbox → R-Keeper simulator, all over real HTTP.

The simulator is the sandbox's (tablepay_sandbox/rkeeper); its fault
injection plays the POS being down, slow, locked, or applying a command and
then dropping the connection.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import Harness, make_order, running_harness
from tests.support.waiting import eventually

MENU = json.loads((Path(__file__).resolve().parents[2] / "resources" / "menu.json").read_text())
PRICES = {item["sku"]: item["unit_amount"] for category in MENU["categories"] for item in category["items"]}


def dish(sku: str, quantity: int) -> dict[str, Any]:
    return {"sku": sku, "name": sku.title(), "quantity": quantity, "unit_amount": PRICES[sku]}


def restaurant_order(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        lines=[dish("MARG", 2), dish("BRUS", 1)], tip_amount=300, donation_amount=200, table="Bar 1"
    )
    values.update(changes)
    return make_order(**values)


def send(h: Harness, order: dict[str, Any]) -> dict[str, Any]:
    response = h.kiosk.post("/v1/orders", json=order)
    assert response.status_code == 202, response.text
    return dict(response.json())


def pos_state(h: Harness, order_id: str) -> dict[str, Any]:
    response = h.kiosk.get(f"/v1/orders/{order_id}/pos")
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_pos(h: Harness, order_id: str, status: str, timeout: float = 15) -> dict[str, Any]:
    def reached() -> dict[str, Any]:
        state = pos_state(h, order_id)
        assert (state["status"] == status and not any(p["delivered_at"] is None for p in state["packages"])) or (
            status in ("failed", "paid") and state["status"] == status
        ), state
        return state

    return eventually(reached, timeout=timeout, message=f"order {order_id} {status} in the POS")


def package_attempts(h: Harness) -> list[tuple[str, int]]:
    """(state, attempts) of each package's outbox row, in the order they were queued."""
    with h.db() as conn:
        return conn.execute("SELECT state, attempts FROM outbox WHERE topic = 'pos.package' ORDER BY id").fetchall()


def sim_orders(h: Harness) -> list[dict[str, Any]]:
    response = h.stripe_http.get("/_sandbox/rkeeper/orders")
    assert response.status_code == 200, response.text
    return list(response.json())


def sim_order(h: Harness, order_id: str) -> dict[str, Any]:
    found = [o for o in sim_orders(h) if json.dumps(o).find(order_id) >= 0]
    assert len(found) == 1, found  # never two POS orders for one TablePay order
    return found[0]


def dishes_in(order: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(d["code"], int(d["quantity"]), int(d["price"])) for s in order["sessions"] for d in s["dishes"]]


def faults(h: Harness, **body: Any) -> None:
    response = h.stripe_http.post("/_sandbox/rkeeper/faults", json=body)
    assert response.status_code == 200, response.text


def pay(h: Harness, order: dict[str, Any]) -> dict[str, Any]:
    response = h.checkout(order)
    assert response.status_code == 201, response.text
    payment = response.json()
    h.complete(payment, "succeeded")
    h.wait_status(payment["payment_id"], "paid")
    return dict(payment)


def test_order_in_two_packages_paid_with_tip_charge_and_closed_without_the_donation(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        order = restaurant_order()
        assert send(h, order)["package"] == 1
        wait_pos(h, order["order_id"], "in_pos")
        order["lines"] = [dish("MARG", 3), dish("BRUS", 1), dish("TIRA", 2)]
        assert send(h, order)["package"] == 2
        assert send(h, order)["package"] is None  # nothing new: nothing sent twice
        wait_pos(h, order["order_id"], "in_pos")

        pay(h, order)
        state = wait_pos(h, order["order_id"], "paid")
        remote = sim_order(h, order["order_id"])
        assert [len(s["dishes"]) for s in remote["sessions"]] == [2, 2]
        assert sorted(dishes_in(remote)) == sorted(
            [
                ("MARG", 2000, PRICES["MARG"]),
                ("BRUS", 1000, PRICES["BRUS"]),
                ("MARG", 1000, PRICES["MARG"]),
                ("TIRA", 2000, PRICES["TIRA"]),
            ]
        )
        dishes_total = 3 * PRICES["MARG"] + PRICES["BRUS"] + 2 * PRICES["TIRA"]
        assert remote["paid"] and remote["finished"] and remote["visit_finished"]
        [payment] = remote["payments"]
        # The order is paid with exactly its sum; the tip rides on tipAmount; the donation is nowhere.
        assert (int(payment["amount"]), int(payment["tipAmount"])) == (dishes_total, 300)
        assert payment["extTransactionInfo"].startswith("stripe:pi_")
        assert state["check_num"] and [s["step"] for s in state["trail"]][-1] == "paid"
        pos_events = [e["event"] for e in h.feed() if e["event"].startswith("pos.")]
        assert pos_events == ["pos.queued", "pos.in_pos", "pos.queued", "pos.in_pos", "pos.paid"]


def test_tip_as_an_open_price_dish_and_checkout_sends_the_order_first(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True, rkeeper_tip_mode="dish") as h:
        order = restaurant_order(tip_amount=450)
        pay(h, order)  # never sent explicitly: the checkout sends it
        wait_pos(h, order["order_id"], "paid")
        remote = sim_order(h, order["order_id"])
        assert ("9001", 1000, 450) in dishes_in(remote)
        [payment] = remote["payments"]
        assert int(payment["amount"]) == 2 * PRICES["MARG"] + PRICES["BRUS"] + 450
        assert int(payment.get("tipAmount") or 0) == 0


def test_pos_down_for_a_while_then_the_outbox_catches_up(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        faults(h, fail_next=4)
        order = restaurant_order()
        send(h, order)
        pay(h, order)
        wait_pos(h, order["order_id"], "paid")
        with h.db() as conn:
            rows = conn.execute("SELECT state, attempts FROM outbox WHERE topic LIKE 'pos.%' ORDER BY id").fetchall()
        assert [state for state, _ in rows] == ["done", "done"] and rows[0][1] == 4, rows  # retried, then caught up
        assert len(sim_order(h, order["order_id"])["payments"]) == 1


@pytest.mark.parametrize("command", ["CreateOrder", "SaveOrder", "PayOrder", "CloseVisit"])
def test_applied_then_connection_dropped_never_duplicates(tmp_path: Path, command: str) -> None:
    with running_harness(tmp_path, pos=True) as h:
        faults(h, drop_next=1, commands=[command])
        order = restaurant_order()
        send(h, order)
        wait_pos(h, order["order_id"], "in_pos")
        order["lines"].append(dish("TIRA", 1))
        send(h, order)
        pay(h, order)
        wait_pos(h, order["order_id"], "paid")
        remote = sim_order(h, order["order_id"])
        assert len(remote["sessions"]) == 2 and len(dishes_in(remote)) == 3
        assert len(remote["payments"]) == 1 and remote["paid"] and remote["visit_finished"]
        assert h.stripe_http.get("/_sandbox/rkeeper/faults").json().get("drop_next", 0) == 0  # the fault fired


def test_pos_answering_after_our_timeout_never_duplicates(tmp_path: Path) -> None:
    # Each of the next calls is applied, then answered only after the client gave up on it.
    with running_harness(tmp_path, pos=True, rkeeper_timeout_seconds=0.3) as h:
        faults(h, delay_next=8, delay_seconds=0.6)
        order = restaurant_order()
        send(h, order)
        pay(h, order)
        wait_pos(h, order["order_id"], "paid", timeout=30)
        remote = sim_order(h, order["order_id"])
        assert len(remote["sessions"]) == 1 and len(dishes_in(remote)) == 2 and len(remote["payments"]) == 1
        assert h.stripe_http.get("/_sandbox/rkeeper/faults").json()["delay_next"] == 0


def test_locked_order_waits_for_the_terminal_to_let_go(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        order = restaurant_order()
        send(h, order)
        state = wait_pos(h, order["order_id"], "in_pos")
        faults(h, lock=state["pos_guid"])
        order["lines"].append(dish("TIRA", 1))
        send(h, order)
        # The worker tried the second package twice and the POS refused both (it stays queued, retried).
        eventually(
            lambda: (rows := package_attempts(h))[1:] and rows[1][0] == "pending" and rows[1][1] >= 2,
            message=lambda: f"two refused tries of the locked package: {package_attempts(h)}",
        )
        assert pos_state(h, order["order_id"])["packages"][1]["delivered_at"] is None
        faults(h, unlock=state["pos_guid"])
        wait_pos(h, order["order_id"], "in_pos")
        assert len(sim_order(h, order["order_id"])["sessions"]) == 2


def test_wrong_credentials_are_reported_and_parked_not_retried_forever(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True, rkeeper_password="not-the-password") as h:
        order = restaurant_order()
        send(h, order)
        state = wait_pos(h, order["order_id"], "failed")
        assert "RKEEPER_PASSWORD" in state["last_error"]
        [dead] = h.kiosk.get("/v1/outbox/dead-letters").json()
        assert (dead["topic"], dead["attempts"]) == ("pos.package", 1)
        assert "401" in dead["last_error"]
        assert [e["event"] for e in h.feed() if e["event"].startswith("pos.")] == ["pos.queued", "pos.failed"]
        assert sim_orders(h) == []


def test_dead_letter_retried_by_hand(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True, outbox_max_attempts=2) as h:
        faults(h, fail_next=100)
        order = restaurant_order()
        send(h, order)
        wait_pos(h, order["order_id"], "failed")
        [dead] = h.kiosk.get("/v1/outbox/dead-letters").json()
        assert dead["attempts"] == 2
        h.stripe_http.delete("/_sandbox/rkeeper/faults")
        retried = h.kiosk.post(f"/v1/outbox/{dead['id']}/retry")
        assert retried.status_code == 200 and retried.json()["state"] == "pending"
        wait_pos(h, order["order_id"], "in_pos")
        assert h.kiosk.get("/v1/outbox/dead-letters").json() == []
        assert h.kiosk.post(f"/v1/outbox/{dead['id']}/retry").status_code == 404
        assert [s["step"] for s in pos_state(h, order["order_id"])["trail"]][-3:] == [
            "retry",
            "created",
            "package_sent",
        ]


def test_dishes_sent_to_the_kitchen_cannot_be_taken_back_from_the_kiosk(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        order = restaurant_order()
        send(h, order)
        order["lines"] = [dish("MARG", 1), dish("BRUS", 1)]
        for response in (h.kiosk.post("/v1/orders", json=order), h.checkout(order)):
            assert response.status_code == 409, response.text
            assert response.json()["error"]["code"] == "lines_already_sent"
            assert "2 x Marg already went to the kitchen" in response.json()["error"]["message"]


def test_refund_is_noted_for_the_manager_and_the_closed_pos_order_is_left_alone(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        order = restaurant_order()
        payment = pay(h, order)
        wait_pos(h, order["order_id"], "paid")
        before = sim_order(h, order["order_id"])
        with h.db() as conn:
            [(intent,)] = conn.execute(
                "SELECT provider_payment_intent FROM payments WHERE payment_id = ?", (payment["payment_id"],)
            ).fetchall()
        assert h.stripe_http.post("/v1/refunds", data={"payment_intent": intent, "amount": 500}).status_code == 200
        h.wait_status(payment["payment_id"], "partially_refunded")
        eventually(
            lambda: "refund_noted" in [s["step"] for s in pos_state(h, order["order_id"])["trail"]],
            timeout=5,
            message="the refund noted in the POS trail",
        )
        assert sim_order(h, order["order_id"]) == before
        assert pos_state(h, order["order_id"])["status"] == "paid"


def test_menu_comes_from_the_pos_with_its_prices(tmp_path: Path) -> None:
    with running_harness(tmp_path, pos=True) as h:
        response = h.kiosk.get("/v1/menu", params={"currency": "EUR"})
        assert response.status_code == 200, response.text
        menu = response.json()
        assert [c["name"] for c in menu["categories"]] == [c["name"] for c in MENU["categories"]]
        served = {item["sku"]: item["unit_amount"] for c in menu["categories"] for item in c["items"]}
        assert served == PRICES  # the open-price tip dish is not on the kiosk's menu


def test_without_a_pos_the_kiosk_is_told_plainly(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        for response in (h.kiosk.post("/v1/orders", json=restaurant_order()), h.kiosk.get("/v1/menu")):
            assert response.status_code == 503
            assert "RKEEPER_URL" in response.json()["error"]["message"]
