"""The two payment providers as the tests drive them: one suite, each provider through its sandbox.

A driver knows how its provider's sandbox is told what the guest did (pay, fail, let it expire),
how its webhooks are held or dropped, and how its refunds settle; everything else a test does goes
through the sync service's own API, the same for both.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from .waiting import eventually

STRIPE_SECRET_KEY = "sk_test_tablepay"
MOLLIE_API_KEY = "test_tablepayMollieSandboxKey000000"
DONATION_ACCOUNT = "acct_1RedCross000001"
DONATION_ORGANIZATION = "org_1RedCross"
PROVIDERS = ("stripe", "mollie")
# What a guest can do on the hosted page, in each provider's words.
_MOLLIE_STATUS = {"succeeded": "paid", "failed": "failed", "expired": "expired", "canceled": "canceled"}


class ProviderDriver(Protocol):
    name: str
    http: httpx.Client  # the sandbox, with this provider's key

    def settings(self) -> dict[str, Any]: ...
    def session_id(self, payment: dict[str, Any]) -> str: ...
    def complete(self, payment: dict[str, Any], outcome: str) -> None: ...
    def pending_deliveries(self) -> list[dict[str, Any]]: ...
    def delivery_mode(self, mode: str) -> None: ...
    def release(self) -> None: ...
    def settle_refunds(self, payment: dict[str, Any]) -> None: ...
    def donation_moves(self, payment: dict[str, Any]) -> list[dict[str, int]]: ...
    def redeliver_held(self, times: int) -> None: ...
    def charged(self, payment: dict[str, Any], decimals: int) -> tuple[int, str]: ...


def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else None


def _last_segment(url: str) -> str:
    return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]


class StripeDriver:
    name = "stripe"

    def __init__(self, sandbox_url: str) -> None:
        self.sandbox_url = sandbox_url
        self.http = httpx.Client(
            base_url=sandbox_url, timeout=30, headers={"Authorization": f"Bearer {STRIPE_SECRET_KEY}"}
        )

    def settings(self) -> dict[str, Any]:
        return {"stripe_api_base": self.sandbox_url, "donation_account": DONATION_ACCOUNT}

    def session_id(self, payment: dict[str, Any]) -> str:
        return _last_segment(str(payment["checkout_url"]))

    def complete(self, payment: dict[str, Any], outcome: str) -> None:
        session = self.session_id(payment)
        if outcome == "expired":
            _ok(self.http.post(f"/_sandbox/checkout/sessions/{session}/expire_now"))
            return
        _ok(self.http.post(f"/_sandbox/checkout/sessions/{session}/complete", json={"outcome": outcome}))

    def pending_deliveries(self) -> list[dict[str, Any]]:
        return list(_ok(self.http.get("/_sandbox/deliveries", params={"status": "pending"}))["data"])

    def delivery_mode(self, mode: str) -> None:
        _ok(self.http.post("/_sandbox/delivery", json={"mode": mode}))

    def release(self) -> None:
        _ok(self.http.post("/_sandbox/deliveries/release"))

    def settle_refunds(self, payment: dict[str, Any]) -> None:
        """Stripe's refunds (in the sandbox) succeed when they are made."""

    def redeliver_held(self, times: int) -> None:
        """Send every event the sandbox holds `times` times, newest first; each is answered before the next."""
        deliveries = _ok(self.http.get("/_sandbox/deliveries"))["data"]
        events = list(dict.fromkeys(d["event"] for d in deliveries))
        for _ in range(times):
            for event_id in reversed(events):
                resent = _ok(self.http.post(f"/_sandbox/events/{event_id}/resend"))
                assert resent["status_code"] == 200, resent

    def charged(self, payment: dict[str, Any], decimals: int) -> tuple[int, str]:
        """The session's total as Stripe holds it (already in minor units) and its currency."""
        session = _ok(self.http.get(f"/v1/checkout/sessions/{self.session_id(payment)}"))
        return int(session["amount_total"]), str(session["currency"]).upper()

    def donation_moves(self, payment: dict[str, Any]) -> list[dict[str, int]]:
        """The transfers to the partner and what has been reversed of each."""
        transfers = _ok(self.http.get("/v1/transfers", params={"limit": 100}))["data"]
        return [
            {"amount": t["amount"], "reversed": t["amount_reversed"]}
            for t in transfers
            if t["metadata"].get("payment_id") == payment["payment_id"]
        ]


class MollieDriver:
    name = "mollie"

    def __init__(self, sandbox_url: str) -> None:
        self.sandbox_url = sandbox_url
        self.http = httpx.Client(
            base_url=sandbox_url, timeout=30, headers={"Authorization": f"Bearer {MOLLIE_API_KEY}"}
        )

    def settings(self) -> dict[str, Any]:
        return {
            "provider": "mollie",
            "stripe_secret_key": None,
            "stripe_webhook_secret": None,
            "mollie_api_key": MOLLIE_API_KEY,
            "mollie_api_base": self.sandbox_url,
            "mollie_split_payments": True,
            "donation_organization": DONATION_ORGANIZATION,
            "mollie_max_retries": 0,
        }

    def session_id(self, payment: dict[str, Any]) -> str:
        return _last_segment(str(payment["checkout_url"]))

    def complete(self, payment: dict[str, Any], outcome: str) -> None:
        status = _MOLLIE_STATUS[outcome]
        _ok(self.http.post(f"/_sandbox/mollie/payments/{self.session_id(payment)}/status", json={"status": status}))

    def pending_deliveries(self) -> list[dict[str, Any]]:
        return list(_ok(self.http.get("/_sandbox/mollie/deliveries", params={"status": "pending"}))["data"])

    def delivery_mode(self, mode: str) -> None:
        _ok(self.http.post("/_sandbox/mollie/delivery", json={"mode": mode}))

    def release(self) -> None:
        _ok(self.http.post("/_sandbox/mollie/deliveries/release"))

    def refunds(self, payment: dict[str, Any]) -> list[dict[str, Any]]:
        found = _ok(self.http.get(f"/v2/payments/{self.session_id(payment)}/refunds"))
        return list(found["_embedded"]["refunds"])

    def redeliver_held(self, times: int) -> None:
        """Call the webhook of every payment with a held delivery `times` times, newest first."""
        deliveries = _ok(self.http.get("/_sandbox/mollie/deliveries"))["data"]
        payments = list(dict.fromkeys(d["payment"] for d in deliveries))
        for _ in range(times):
            for payment_id in reversed(payments):
                called = _ok(self.http.post(f"/_sandbox/mollie/payments/{payment_id}/webhook"))
                assert called["status_code"] == 200, called

    def charged(self, payment: dict[str, Any], decimals: int) -> tuple[int, str]:
        """Mollie's amount string read with `decimals` (from an independent table): "12.50" -> 1250."""
        amount = _ok(self.http.get(f"/v2/payments/{self.session_id(payment)}"))["amount"]
        whole, _, fraction = str(amount["value"]).partition(".")
        assert len(fraction) == decimals, amount
        return int(whole + fraction), str(amount["currency"])

    def settle_refunds(self, payment: dict[str, Any]) -> None:
        """Mollie's refunds are pending until Mollie processes them: the sandbox settles them on request."""
        for refund in self.refunds(payment):
            if refund["status"] in ("queued", "pending"):
                _ok(self.http.post(f"/_sandbox/mollie/refunds/{refund['id']}/status", json={"status": "refunded"}))

    def donation_moves(self, payment: dict[str, Any]) -> list[dict[str, int]]:
        """The delayed routes to the partner and what the refunds' routing reversals took back of each."""
        tr = self.session_id(payment)
        routes = _ok(self.http.get(f"/v2/payments/{tr}/routes"))["_embedded"]["routes"]
        reversed_by_org: dict[str, int] = {}
        for refund in self.refunds(payment):
            if refund["status"] in ("failed", "canceled"):
                continue
            for reversal in refund.get("routingReversals") or []:
                org = reversal["source"]["organizationId"]
                reversed_by_org[org] = reversed_by_org.get(org, 0) + _minor(reversal["amount"]["value"])
        return [
            {
                "amount": _minor(route["amount"]["value"]),
                "reversed": reversed_by_org.get(route["destination"]["organizationId"], 0),
            }
            for route in routes
        ]


def _minor(value: str) -> int:
    """A Mollie value string in minor units (the tests use two-decimal currencies for this)."""
    whole, _, fraction = value.partition(".")
    return int(whole) * 100 + int(fraction or 0)


def driver(name: str, sandbox_url: str) -> StripeDriver | MollieDriver:
    return MollieDriver(sandbox_url) if name == "mollie" else StripeDriver(sandbox_url)


def settled(drv: ProviderDriver) -> None:
    """Every webhook the sandbox has due is delivered and answered."""
    eventually(lambda: not drv.pending_deliveries(), message=f"every pending {drv.name} webhook delivered")
