"""Split bills from the outside: the kiosk opens one, guests (plain HTTP, no login) read and pay it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.harness import Harness, make_order


def split_order(order_id: str, **changes: Any) -> dict[str, Any]:
    """An order to split: no tip or donation of its own (each guest adds theirs)."""
    return make_order(order_id=order_id, tip_amount=0, donation_amount=0, **changes)


class Table:
    """One table's bill as its guests see it: `h.kiosk` opened it, anyone with its URL pays (each
    request from a fresh client: a guest's phone shares nothing with the kiosk or other guests)."""

    def __init__(self, h: Harness, order: dict[str, Any]) -> None:
        self.h, self.order = h, order
        opened = h.kiosk.post(f"/v1/orders/{order['order_id']}/bill", json=order)
        assert opened.status_code in (200, 201), opened.text
        self.bill = opened.json()
        self.url = str(self.bill["bill_url"])

    def state(self, share: str = "") -> dict[str, Any]:
        response = httpx.get(f"{self.url}/state", params={"share": share} if share else {}, timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def ask(self, **body: Any) -> httpx.Response:
        """POST a share; `version` defaults to the bill's version now."""
        body.setdefault("version", self.state()["version"])
        return httpx.post(f"{self.url}/shares", json=body, timeout=30)

    def take(self, **body: Any) -> dict[str, Any]:
        response = self.ask(**body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def pay(self, share: dict[str, Any], outcome: str = "succeeded") -> dict[str, Any]:
        """The guest completes the share's hosted checkout; returns the share's payment once it is there."""
        payment = {"payment_id": share["share_id"], "checkout_url": share["checkout_url"]}
        self.h.complete(payment, outcome)
        return self.h.wait_status(share["share_id"], {"succeeded": "paid"}.get(outcome, outcome))

    def reopen(self, order: dict[str, Any]) -> dict[str, Any]:
        """The waiter sends the order again (a dish added): the bill's new version."""
        response = self.h.kiosk.post(f"/v1/orders/{order['order_id']}/bill", json=order)
        assert response.status_code == 200, response.text
        self.order = order
        return dict(response.json())
