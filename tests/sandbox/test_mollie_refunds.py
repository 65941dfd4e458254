"""Refunds, chargebacks and split payments (routing, delayed routes, reversals) on the Mollie fake."""

from __future__ import annotations

from typing import Any

from mollie import ClientSDK, models

from tablepay_sandbox.mollie import MollieOptions

from .conftest import Sandbox, SandboxFactory
from .mollie_support import amount, create, mollie_api, paid, sdk

RED_CROSS = "org_1RedCross"


def _refund(sandbox: Sandbox, payment_id: str, minor: int, **extra: Any) -> Any:
    return mollie_api(sandbox, "POST", f"/v2/payments/{payment_id}/refunds", json={"amount": amount(minor), **extra})


def _payment(sandbox: Sandbox, payment_id: str, **params: str) -> dict[str, Any]:
    body: dict[str, Any] = mollie_api(sandbox, "GET", f"/v2/payments/{payment_id}", params=params).json()
    return body


def test_refunds_with_mollies_client(sandbox: Sandbox) -> None:
    payment_id = paid(sandbox)["id"]

    async def work(client: ClientSDK) -> tuple[Any, ...]:
        refund = await client.refunds.create_async(
            payment_id=payment_id,
            refund_request={"amount": amount(400), "description": "Cold soup", "metadata": {"why": "soup"}},
            idempotency_key="refund-42-1",
        )
        listed = await client.refunds.list_async(payment_id=payment_id)
        everything = await client.refunds.all_async()
        fetched = await client.refunds.get_async(payment_id=payment_id, refund_id=refund.id)
        await client.refunds.cancel_async(payment_id=payment_id, refund_id=refund.id)
        return refund, listed, everything, fetched

    refund, listed, everything, fetched = sdk(sandbox, work)
    assert refund.id.startswith("re_") and refund.status == models.RefundResponseStatus.PENDING
    assert refund.amount.value == "4.00" and refund.payment_id == payment_id and refund.metadata == {"why": "soup"}
    assert (
        [r.id for r in listed.result.embedded.refunds]
        == [refund.id]
        == [r.id for r in everything.result.embedded.refunds]
    )
    assert fetched.id == refund.id
    after = _payment(sandbox, payment_id, embed="refunds")
    assert after["_embedded"]["refunds"][0]["status"] == "canceled"
    assert after["amountRefunded"] == amount(0) and after["_links"]["refunds"]["href"].startswith(sandbox.url)


def test_refund_rules(sandbox: Sandbox) -> None:
    payment_id = paid(sandbox)["id"]
    assert _refund(sandbox, payment_id, 400).status_code == 201
    shown = _payment(sandbox, payment_id)
    assert shown["amountRefunded"] == amount(400) and shown["amountRemaining"] == amount(600)  # pending counts
    duplicate = _refund(sandbox, payment_id, 400)
    assert duplicate.status_code == 409 and duplicate.json()["detail"] == "A duplicate refund has been detected"
    too_much = _refund(sandbox, payment_id, 700)
    assert too_much.status_code == 422 and too_much.json()["field"] == "amount"
    other_currency = mollie_api(
        sandbox, "POST", f"/v2/payments/{payment_id}/refunds", json={"amount": amount(100, "GBP")}
    )
    assert other_currency.status_code == 422 and other_currency.json()["field"] == "amount.currency"
    unpaid = create(sandbox)["id"]
    assert _refund(sandbox, unpaid, 100).status_code == 422
    # an idempotent replay of a refund is not a duplicate
    headers = {"Idempotency-Key": "refund-42-2"}
    first = mollie_api(
        sandbox, "POST", f"/v2/payments/{payment_id}/refunds", json={"amount": amount(250)}, headers=headers
    )
    again = mollie_api(
        sandbox, "POST", f"/v2/payments/{payment_id}/refunds", json={"amount": amount(250)}, headers=headers
    )
    assert first.status_code == again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    # processing refunds cannot be canceled; pending ones can (204)
    refund_id = first.json()["id"]
    moved = sandbox.control("POST", f"/_sandbox/mollie/refunds/{refund_id}/status", json={"status": "processing"})
    assert moved.json()["status"] == "processing"
    assert mollie_api(sandbox, "DELETE", f"/v2/payments/{payment_id}/refunds/{refund_id}").status_code == 422
    first_refund = _payment(sandbox, payment_id, embed="refunds")["_embedded"]["refunds"][0]["id"]
    assert mollie_api(sandbox, "DELETE", f"/v2/payments/{payment_id}/refunds/{first_refund}").status_code == 204
    assert _payment(sandbox, payment_id)["amountRemaining"] == amount(750)


def test_pending_refunds_need_not_count(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(mollie_options=MollieOptions(pending_refunds_count=False))
    payment_id = paid(sandbox)["id"]
    refund_id = _refund(sandbox, payment_id, 400).json()["id"]
    assert _payment(sandbox, payment_id)["amountRefunded"] == amount(0)
    assert _refund(sandbox, payment_id, 700).status_code == 422  # the pending refund still holds its money
    sandbox.control("POST", f"/_sandbox/mollie/refunds/{refund_id}/status", json={"status": "refunded"})
    assert _payment(sandbox, payment_id)["amountRefunded"] == amount(400)


def test_chargebacks(sandbox: Sandbox) -> None:
    payment_id = paid(sandbox)["id"]
    opened = sandbox.control(
        "POST", f"/_sandbox/mollie/payments/{payment_id}/chargebacks", json={"amount": amount(300)}
    )
    assert opened.status_code == 201
    whole_rest = sandbox.control("POST", f"/_sandbox/mollie/payments/{payment_id}/chargebacks")
    assert whole_rest.json()["amount"] == amount(700)

    async def work(client: ClientSDK) -> tuple[Any, Any]:
        listed = await client.chargebacks.list_async(payment_id=payment_id)
        one = await client.chargebacks.get_async(payment_id=payment_id, chargeback_id=opened.json()["id"])
        return listed, one

    listed, one = sdk(sandbox, work)
    assert [c.id for c in listed.result.embedded.chargebacks] == [
        whole_rest.json()["id"],
        opened.json()["id"],
    ]  # newest first
    assert one.amount.value == "3.00"
    payment = _payment(sandbox, payment_id)
    assert payment["amountChargedBack"] == amount(1000) and payment["amountRemaining"] == amount(0)
    assert payment["_links"]["chargebacks"]["href"] == f"{sandbox.url}/v2/payments/{payment_id}/chargebacks"


def _route(body: dict[str, Any], org: str = RED_CROSS) -> dict[str, Any]:
    return {"amount": body, "destination": {"type": "organization", "organizationId": org}}


def test_routing_and_reversals(sandbox: Sandbox) -> None:
    payment = create(sandbox, amount=amount(2000), routing=[_route(amount(300))])
    assert payment["routing"][0]["amountReversed"] == amount(0)
    assert payment["routing"][0]["destination"]["organizationId"] == RED_CROSS
    for routing, field in (([_route(amount(300), "org_Unknown")], "routing[0].destination.organizationId"),
                           ([_route(amount(2100))], "routing")):  # fmt: skip
        refused = mollie_api(sandbox, "POST", "/v2/payments", json={**_base(), "routing": routing})
        assert refused.status_code == 422 and refused.json()["field"] == field
    payment_id = payment["id"]
    assert mollie_api(sandbox, "POST", f"/v2/payments/{payment_id}/routes", json=_route(amount(100))).status_code == 422
    sandbox.control("POST", f"/_sandbox/mollie/payments/{payment_id}/status", json={"status": "paid"})

    async def work(client: ClientSDK) -> tuple[Any, Any]:
        made = await client.delayed_routing.create_async(
            payment_id=payment_id,
            route_create_request={
                "amount": amount(200),
                "description": "Donation",
                "destination": _route(amount(0))["destination"],
            },
        )
        return made, await client.delayed_routing.list_async(payment_id=payment_id)

    made, listed = sdk(sandbox, work)
    assert made.id.startswith("crt_") and [r.id for r in listed.embedded.routes] == [made.id]
    over = mollie_api(sandbox, "POST", f"/v2/payments/{payment_id}/routes", json=_route(amount(1501)))
    assert over.status_code == 422  # 2000 - 300 - 200 are left to route

    me = _refund(
        sandbox,
        payment_id,
        500,
        routingReversals=[{"amount": amount(100), "source": {"type": "organization", "organizationId": "me"}}],
    )
    assert me.status_code == 422
    too_much = _refund(
        sandbox,
        payment_id,
        900,
        routingReversals=[{"amount": amount(600), "source": {"type": "organization", "organizationId": RED_CROSS}}],
    )
    assert too_much.status_code == 422 and too_much.json()["field"] == "routingReversals[0].amount"
    partial_full = _refund(sandbox, payment_id, 500, reverseRouting=True)
    assert partial_full.status_code == 422 and partial_full.json()["field"] == "reverseRouting"
    refund = _refund(
        sandbox,
        payment_id,
        500,
        routingReversals=[{"amount": amount(400), "source": {"type": "organization", "organizationId": RED_CROSS}}],
    )
    assert refund.status_code == 201
    assert refund.json()["routingReversals"] == [
        {"amount": amount(400), "source": {"type": "organization", "organizationId": RED_CROSS}}
    ]
    reversed_upfront = _payment(sandbox, payment_id)["routing"][0]["amountReversed"]
    delayed = mollie_api(sandbox, "GET", f"/v2/payments/{payment_id}/routes/{made.id}").json()
    assert (reversed_upfront, delayed["amountReversed"]) == (amount(300), amount(100))  # oldest route first
    mollie_api(sandbox, "DELETE", f"/v2/payments/{payment_id}/refunds/{refund.json()['id']}")
    assert _payment(sandbox, payment_id)["routing"][0]["amountReversed"] == amount(0)  # given back


def test_split_payments_can_be_off(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(mollie_options=MollieOptions(split_payments=False))
    refused = mollie_api(sandbox, "POST", "/v2/payments", json={**_base(), "routing": [_route(amount(100))]})
    assert refused.status_code == 422 and refused.json()["field"] == "routing"


def _base() -> dict[str, Any]:
    return {"amount": amount(2000), "description": "Bill 9", "redirectUrl": "https://tablepay.example/return/9"}
