"""Every route of the service × every kind of token → the status it must answer, over real HTTP.

The matrix is the record of who may call what. A route added to the app without a row here
fails `test_every_route_has_a_row`, so a new route cannot slip in unscoped.

Token kinds (columns):
- none: no Authorization header; malformed: not a bearer token; unknown: a bearer token never
  issued; revoked: a token revoked with `tablepay sync revoke-kiosk`;
- kiosk: a kiosk token (no manager scope) on its own resources;
- manager: a manager token on its own resources;
- partner: a partner's API key (`tablepay sync add-partner`): 403 everywhere but `/v1/partner/...`;
- other_kiosk: another kiosk's token on the first kiosk's resources, which must not leak: 404
  for a payment, an order's history or POS state; 403 where the body names the order (a checkout
  or a send to the kitchen of another kiosk's order); lookup and events answer 200 without them.

Dead letters belong to the restaurant, not to a kiosk: any manager token, no other token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from fastapi import routing

from sync_service.api.auth import issue_kiosk_token, revoke_kiosk_token
from sync_service.services.partners import Partners, UrlPolicy
from tests.support.harness import Harness, make_order, running_harness
from tests.support.waiting import eventually

COLUMNS = ("none", "malformed", "unknown", "revoked", "kiosk", "manager", "other_kiosk", "partner")
U = 401  # every /v1 route refuses a request without a valid token the same way
DISHES = [{"sku": "MARG", "name": "Pizza margherita", "quantity": 2, "unit_amount": 950}]  # the POS sells these

#                                              none malformed unknown revoked kiosk manager other_kiosk partner
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/v1/kiosk"): (U, U, U, U, 200, 200, 200, 403),
    ("POST", "/v1/checkouts"): (U, U, U, U, 201, 201, 403, 403),
    ("GET", "/v1/payments/{payment_id}"): (U, U, U, U, 200, 200, 404, 403),
    ("POST", "/v1/payments/{payment_id}/refresh"): (U, U, U, U, 200, 200, 404, 403),
    # The kiosk's payment is open (cancelled now); the manager's is paid, so it cannot be.
    ("POST", "/v1/payments/{payment_id}/cancel"): (U, U, U, U, 200, 409, 404, 403),
    # Refunds need the manager scope before anything else is looked at.
    ("POST", "/v1/payments/{payment_id}/refunds"): (U, U, U, U, 403, 202, 403, 403),
    ("GET", "/v1/orders/{order_id}/history"): (U, U, U, U, 200, 200, 404, 403),
    ("POST", "/v1/payments/lookup"): (U, U, U, U, 200, 200, 200, 403),
    ("GET", "/v1/events"): (U, U, U, U, 200, 200, 200, 403),
    ("POST", "/v1/orders"): (U, U, U, U, 202, 202, 403, 403),
    ("GET", "/v1/orders/{order_id}/pos"): (U, U, U, U, 200, 200, 404, 403),
    ("GET", "/v1/menu"): (U, U, U, U, 200, 200, 200, 403),
    ("GET", "/v1/outbox/dead-letters"): (U, U, U, U, 403, 200, 403, 403),
    # A split bill of the caller's own order (services/bills.py); the other kiosk claims the first's.
    ("POST", "/v1/orders/{order_id}/bill"): (U, U, U, U, 201, 201, 403, 403),
    ("DELETE", "/v1/orders/{order_id}/bill"): (U, U, U, U, 200, 200, 404, 403),
    ("POST", "/v1/outbox/{row_id}/retry"): (U, U, U, U, 403, 200, 403, 403),
    # A partner's key reaches only the partner API, and nothing else reaches it (docs/partners.md).
    ("POST", "/v1/partner/orders"): (U, U, U, U, 403, 403, 403, 201),
    ("GET", "/v1/partner/orders/{external_order_id}"): (U, U, U, U, 403, 403, 403, 200),
    # Partners' deliveries are the restaurant's, like dead letters: any manager token. No failed delivery here.
    ("GET", "/v1/partners/deliveries"): (U, U, U, U, 403, 200, 403, 403),
    ("POST", "/v1/partners/deliveries/{row_id}/replay"): (U, U, U, U, 403, 404, 403, 403),
}

# Public by design: a token is neither needed nor looked at, so every column gets the same answer.
PUBLIC: dict[tuple[str, str], int] = {
    ("GET", "/healthz"): 200,
    ("POST", "/webhooks/stripe"): 400,  # authenticated by Stripe's signature instead (none here)
    ("GET", "/pay/success"): 200,  # the guest's pages show a payment's state, never set it
    ("GET", "/pay/cancel"): 200,
    ("GET", "/openapi.json"): 200,
    ("GET", "/docs"): 200,
    ("GET", "/docs/oauth2-redirect"): 200,
    ("GET", "/redoc"): 200,
    # Pairing by code (services/pairing.py): a kiosk without a token asks for a code and polls it with
    # its poll secret (the Poll-Token header); a token in Authorization is never looked at.
    ("POST", "/v1/pairing/codes"): 201,
    ("GET", "/v1/pairing/codes/{code}"): 404,  # no poll secret: as if the code did not exist
    # A split bill's guests hold only its token (in the path); a token in Authorization is never looked at.
    ("GET", "/bill/{token}"): 404,  # a token no bill has: the page says its link no longer works
    ("GET", "/bill/{token}/state"): 404,
    ("POST", "/bill/{token}/shares"): 404,
}

# Bodies or answers of the other kiosk that must not hold the first kiosk's payment.
NO_LEAK = {("POST", "/v1/payments/lookup"), ("GET", "/v1/events")}


@dataclass(frozen=True)
class Caller:
    """One cell's request: who calls, and which resources the path and body point at."""

    column: str
    headers: dict[str, str]
    kiosk_id: str  # the kiosk the caller's token is (or claims to be)
    payment_id: str
    order: dict[str, Any]
    session_id: str
    row_id: int
    bill_order: dict[str, Any]  # an order of the caller's without a checkout, to split

    def bill_body(self) -> dict[str, Any]:
        """The caller's order to split; for the other kiosk, the first kiosk's claimed as its own."""
        return {**self.bill_order, "kiosk_id": self.kiosk_id}

    @property
    def order_id(self) -> str:
        return str(self.order["order_id"])

    def own_or_foreign_order(self) -> dict[str, Any]:
        """A new order of the caller's; for the other kiosk, the first kiosk's order claimed as its own."""
        if self.column == "other_kiosk":
            return {**self.order, "kiosk_id": self.kiosk_id}
        return make_order(kiosk_id=self.kiosk_id, lines=DISHES)


Body = Callable[[Caller], dict[str, Any]] | None
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/v1/checkouts"): Caller.own_or_foreign_order,
    ("POST", "/v1/orders"): Caller.own_or_foreign_order,
    ("POST", "/v1/payments/{payment_id}/refunds"): lambda c: {"amount": 100},
    ("POST", "/v1/payments/lookup"): lambda c: {"payment_ids": [c.payment_id]},
    ("POST", "/webhooks/stripe"): lambda c: {"id": "evt_unsigned", "type": "checkout.session.completed"},
    ("POST", "/v1/orders/{order_id}/bill"): Caller.bill_body,
    ("POST", "/bill/{token}/shares"): lambda c: {"mode": "remaining", "version": 1},
    ("POST", "/v1/partner/orders"): lambda c: partner_order(),
}


def partner_order(external_order_id: str | None = None) -> dict[str, Any]:
    return {
        "external_order_id": external_order_id or f"ext-{uuid.uuid4().hex[:8]}",
        "currency": "EUR",
        "lines": DISHES,
        "pickup": "Ana",
        "return_url": "https://menu.example/thanks",
        "cancel_url": "https://menu.example/cart",
    }


QUERIES = {
    "/pay/success": "?session_id={session_id}",
    "/pay/cancel": "?payment_id={payment_id}",
    "/v1/events": "?wait=0",
}


def _app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; HEAD is Starlette's automatic twin of GET."""
    found = set()
    for route in routing.iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, route.path))
    return found


@dataclass
class World:
    harness: Harness
    callers: dict[str, Caller]
    first_payment: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_harness(tmp_path_factory.mktemp("scopes"), pos=True) as h:
        repo = h.app.state.repo
        tokens = {
            "till-1": issue_kiosk_token(repo, "till-1"),
            "till-2": issue_kiosk_token(repo, "till-2"),
            "gone": issue_kiosk_token(repo, "gone"),
        }
        revoke_kiosk_token(repo, "gone")
        # A partner (any webhook URL: nothing is delivered here) and one order of its own.
        partner = Partners(repo, UrlPolicy(allow_http=True, allow_private=True)).add("menu", "http://127.0.0.1:9/")
        with httpx.Client(base_url=h.service.url, headers={"Authorization": f"Bearer {partner.api_key}"}) as client:
            assert client.post("/v1/partner/orders", json=partner_order("ext-first")).status_code == 201

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        # The first kiosk's order, sent to the kitchen, with an open checkout.
        first_order = make_order(kiosk_id="till-1", lines=DISHES)
        till = httpx.Client(base_url=h.service.url, headers=bearer(tokens["till-1"]), timeout=30)
        with till:
            assert till.post("/v1/orders", json=first_order).status_code == 202
            first = till.post("/v1/checkouts", json=first_order).json()
        # The manager kiosk's own order, paid (so it can be refunded).
        managers_order = make_order(lines=DISHES)
        paid = h.checkout(managers_order).json()
        h.complete(paid, "succeeded")
        h.wait_status(paid["payment_id"], "paid")
        # A dead letter: a dish the POS does not know parks its package at once.
        assert (
            h.kiosk.post(
                "/v1/orders",
                json=make_order(lines=[{"sku": "NOPE", "name": "Unknown dish", "quantity": 1, "unit_amount": 500}]),
            ).status_code
            == 202
        )
        [dead] = eventually(lambda: repo.outbox_rows(state="dead"), timeout=15, message="a dead letter")

        base = Caller(
            "kiosk",
            bearer(tokens["till-1"]),
            "till-1",
            first["payment_id"],
            first_order,
            h.session_id(first),
            dead["id"],
            make_order(kiosk_id="till-1", lines=DISHES, tip_amount=0),
        )
        callers = {
            "none": replace(base, column="none", headers={}),
            "malformed": replace(base, column="malformed", headers={"Authorization": "Basic dGlsbC0xOnBhc3M="}),
            "unknown": replace(base, column="unknown", headers=bearer("tpk_never_issued")),
            "revoked": replace(base, column="revoked", headers=bearer(tokens["gone"]), kiosk_id="gone"),
            "kiosk": base,
            "manager": replace(
                base,
                column="manager",
                headers=bearer(h.token),
                kiosk_id="kiosk-1",
                payment_id=paid["payment_id"],
                order=managers_order,
                bill_order=make_order(lines=DISHES, tip_amount=0),
            ),
            "other_kiosk": replace(base, column="other_kiosk", headers=bearer(tokens["till-2"]), kiosk_id="till-2"),
            "partner": replace(base, column="partner", headers=bearer(partner.api_key)),
        }
        yield World(h, callers, first["payment_id"])


def _call(world: World, route: tuple[str, str], caller: Caller) -> httpx.Response:
    method, path = route
    url = (path + QUERIES.get(path, "")).format(
        payment_id=caller.payment_id,
        order_id=caller.bill_order["order_id"] if path.endswith("/bill") else caller.order_id,
        token="x" * 43,
        row_id=caller.row_id,
        session_id=caller.session_id,
        code="KXM4-7RPQ",
        external_order_id="ext-first",
    )
    body = BODIES.get(route)
    return httpx.request(
        method, world.harness.service.url + url, headers=caller.headers, timeout=30, json=body(caller) if body else None
    )


def test_every_route_has_a_row(world: World) -> None:
    served = _app_routes(world.harness.app)
    assert not MATRIX.keys() & PUBLIC.keys()
    assert served - MATRIX.keys() - PUBLIC.keys() == set(), "a route without a row in the scope matrix"
    assert (MATRIX.keys() | PUBLIC.keys()) - served == set(), "a row for a route the app does not serve"
    assert all(len(row) == len(COLUMNS) for row in MATRIX.values())


def test_every_route_answers_every_kind_of_token_as_the_matrix_says(world: World) -> None:
    wrong = []
    for route, expected in MATRIX.items():
        for column, status in zip(COLUMNS, expected, strict=True):
            response = _call(world, route, world.callers[column])
            if response.status_code != status:
                wrong.append(
                    f"{' '.join(route)} as {column}: {response.status_code}, not {status}: {response.text[:200]}"
                )
            elif status == 401 and response.headers.get("www-authenticate") != "Bearer":
                wrong.append(f"{' '.join(route)} as {column}: 401 without WWW-Authenticate: Bearer")
            elif column == "other_kiosk" and route in NO_LEAK and world.first_payment in response.text:
                wrong.append(f"{' '.join(route)} as {column}: shows the first kiosk's payment")
    assert wrong == [], "\n".join(wrong)


def test_public_routes_answer_alike_whatever_the_token(world: World) -> None:
    wrong = []
    for route, status in PUBLIC.items():
        for column in COLUMNS:
            response = _call(world, route, world.callers[column])
            if response.status_code != status:
                wrong.append(f"{' '.join(route)} as {column}: {response.status_code}, not {status}")
    assert wrong == [], "\n".join(wrong)
