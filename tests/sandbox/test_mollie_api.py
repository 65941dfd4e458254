"""Mollie's Payments API v2 as the sandbox plays it, driven by Mollie's own client (mollie-api-py)
and, for the error shapes, by plain httpx."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import httpx
import pytest
from mollie import ClientSDK, models

from tablepay_sandbox.mollie import MollieOptions
from tests.support.waiting import eventually

from .conftest import Sandbox, SandboxFactory
from .mollie_support import MOLLIE_KEY, amount, create, mollie_api, paid, payment_request, sdk, value


def _error(response: httpx.Response, status: int, field: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/hal+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["_links"]["documentation"]["href"].startswith("https://")
    assert body.get("field") == field
    return dict(body)


def test_create_and_get_with_mollies_client(sandbox: Sandbox) -> None:
    async def work(client: ClientSDK) -> tuple[models.PaymentResponse, models.PaymentResponse]:
        created = await client.payments.create_async(
            payment_request={
                **payment_request(),
                "method": "ideal",
                "cancelUrl": "https://tablepay.example/cancel/42",
                "webhookUrl": "https://tablepay.example/webhooks/mollie",
                "locale": "nl_NL",
            },
            idempotency_key="bill-42-try-1",
        )
        return created, await client.payments.get_async(payment_id=created.id)

    created, fetched = sdk(sandbox, work)
    assert created.id.startswith("tr_") and created.resource == "payment"
    assert (created.mode, created.status) == (models.Mode.TEST, models.PaymentResponseStatus.OPEN)
    assert created.amount.value == "10.00" and created.description == "Table 7, bill 42"
    assert created.metadata == {"bill": "42"} and created.locale == "nl_NL"
    assert created.is_cancelable is True
    assert created.links.checkout is not None
    assert created.links.checkout.href == f"{sandbox.url}/mollie/checkout/{created.id}"
    assert created.links.self_.href == f"{sandbox.url}/v2/payments/{created.id}"
    assert created.links.dashboard.href.startswith(sandbox.url)
    assert isinstance(created.created_at, str) and isinstance(created.expires_at, str)
    lifetime = datetime.fromisoformat(created.expires_at) - datetime.fromisoformat(created.created_at)
    assert lifetime == timedelta(minutes=15)  # iDEAL
    assert created.amount_refunded is None and not created.paid_at  # not paid yet
    assert fetched.model_dump() == created.model_dump()


@pytest.mark.parametrize("currency", ["EUR", "GBP", "USD", "CHF", "PLN", "SEK", "HUF", "JPY", "ISK"])
def test_amounts_need_exactly_the_currencys_decimals(sandbox: Sandbox, currency: str) -> None:
    good = value(1000 * 10 ** (2 if currency in ("ISK", "JPY") else 0), currency)  # whole amounts everywhere
    created = create(sandbox, amount={"currency": currency, "value": good})
    assert created["amount"] == {"currency": currency, "value": good}
    wrong = good + ".0" if "." not in good else good[:-1]  # one decimal too many / too few
    response = mollie_api(
        sandbox, "POST", "/v2/payments", json=payment_request(amount={"currency": currency, "value": wrong})
    )
    _error(response, 422, "amount.value")


@pytest.mark.parametrize(
    ("amount_", "field"),
    [
        ({"currency": "EUR", "value": 10.0}, "amount.value"),  # a number, not a string
        ({"currency": "EUR", "value": "10"}, "amount.value"),
        ({"currency": "KWD", "value": "1.000"}, "amount.currency"),  # three decimals: Mollie takes none
        ({"currency": "XYZ", "value": "1.00"}, "amount.currency"),
        ({"currency": "eur", "value": "1.00"}, "amount.currency"),
        ({"currency": "EUR", "value": "0.00"}, "amount"),  # under the minimum
        (None, "amount"),
    ],
)
def test_bad_amounts_are_422_with_the_field(sandbox: Sandbox, amount_: object, field: str) -> None:
    response = mollie_api(sandbox, "POST", "/v2/payments", json=payment_request(amount=amount_))
    _error(response, 422, field)


def test_required_fields_and_a_long_description(sandbox: Sandbox) -> None:
    for missing in ("description", "redirectUrl"):
        body = payment_request()
        del body[missing]
        _error(mollie_api(sandbox, "POST", "/v2/payments", json=body), 422, missing)
    assert len(create(sandbox, description="x" * 300)["description"]) == 255  # truncated, not refused


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer live_abcdefghijklmnopqrstuvwxyz",
        "Bearer test_",
        "Bearer sk_test_abc",
        "Basic dGVzdF9hYmM6",
        "Bearer test_a-b",
    ],
)
def test_only_test_keys_get_in(sandbox: Sandbox, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(f"{sandbox.url}/v2/payments", json=payment_request(), headers=headers)
    _error(response, 401)


def test_lines_are_checked_as_mollie_checks_them(sandbox: Sandbox) -> None:
    risotto = {"description": "Risotto", "quantity": 2, "unitPrice": amount(1250), "totalAmount": amount(2500),
               "vatRate": "9.00", "vatAmount": amount(206)}  # fmt: skip
    discount = {"type": "discount", "description": "Loyalty", "quantity": 1, "unitPrice": amount(-500),
                "totalAmount": amount(-500)}  # fmt: skip
    tip = {
        "type": "surcharge",
        "description": "Tip",
        "quantity": 1,
        "unitPrice": amount(300),
        "totalAmount": amount(300),
    }
    created = create(sandbox, amount=amount(2300), lines=[risotto, discount, tip])
    assert [line["totalAmount"]["value"] for line in created["lines"]] == ["25.00", "-5.00", "3.00"]

    def refused(lines: list[dict[str, object]], total: int, field: str) -> None:
        body = payment_request(amount=amount(total), lines=lines)
        _error(mollie_api(sandbox, "POST", "/v2/payments", json=body), 422, field)

    refused([risotto], 2400, "amount")  # lines do not add up
    refused([{**risotto, "totalAmount": amount(2400)}], 2400, "lines[0].totalAmount")
    refused([{**risotto, "vatAmount": amount(207)}], 2500, "lines[0].vatAmount")
    refused([{**tip, "type": "tip"}], 300, "lines[0].type")  # not available at create
    refused([risotto, {**discount, "type": "physical"}], 2000, "lines[1].totalAmount")
    refused(
        [{**risotto, "discountAmount": amount(500), "totalAmount": amount(2000)}, discount], 1500, "lines[0].vatAmount"
    )


def test_list_pages_newest_first_with_absolute_links(sandbox: Sandbox) -> None:
    ids = [create(sandbox, description=f"bill {i}")["id"] for i in range(5)]

    async def work(client: ClientSDK) -> list[list[str]]:
        pages = []
        page = await client.payments.list_async(limit=2)
        while page is not None:
            embedded = page.result.embedded.payments or []
            pages.append([p.id for p in embedded])
            page = await page.next()
        return pages

    assert sdk(sandbox, work) == [ids[::-1][0:2], ids[::-1][2:4], ids[::-1][4:5]]
    body = mollie_api(sandbox, "GET", "/v2/payments", params={"from": ids[2], "limit": 2}).json()
    assert [p["id"] for p in body["_embedded"]["payments"]] == [ids[2], ids[1]] and body["count"] == 2
    assert body["_links"]["next"]["href"] == f"{sandbox.url}/v2/payments?from={ids[0]}&limit=2"
    assert body["_links"]["previous"]["href"] == f"{sandbox.url}/v2/payments?from={ids[4]}&limit=2"
    first = mollie_api(sandbox, "GET", "/v2/payments").json()
    assert first["count"] == 5 and first["_links"]["previous"] is None and first["_links"]["next"] is None
    for bad in ("0", "251", "x"):
        _error(mollie_api(sandbox, "GET", "/v2/payments", params={"limit": bad}), 400, "limit")
    _error(mollie_api(sandbox, "GET", "/v2/payments/tr_doesnotexist"), 404)


def test_cancel_while_cancelable_only(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox()
    payment_id = create(sandbox)["id"]
    canceled = sdk(sandbox, lambda c: c.payments.cancel_async(payment_id=payment_id))
    assert canceled.status == models.PaymentResponseStatus.CANCELED and canceled.canceled_at
    raw = mollie_api(sandbox, "GET", f"/v2/payments/{payment_id}").json()
    assert "isCancelable" not in raw and "expiresAt" not in raw and "checkout" not in raw["_links"]
    body = _error(mollie_api(sandbox, "DELETE", f"/v2/payments/{payment_id}"), 422)
    assert body["detail"] == "The payment cannot be cancelled"
    sandbox.server.stop()

    strict = start_sandbox(mollie_options=MollieOptions(cancelable_while_open=False))
    open_one = create(strict)
    assert open_one["isCancelable"] is False
    _error(mollie_api(strict, "DELETE", f"/v2/payments/{open_one['id']}"), 422)


def test_idempotency_key(sandbox: Sandbox) -> None:
    headers = {"Idempotency-Key": "bill-42-try-1"}
    first = mollie_api(sandbox, "POST", "/v2/payments", json=payment_request(), headers=headers)
    again = mollie_api(sandbox, "POST", "/v2/payments", json=payment_request(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    other_body = mollie_api(sandbox, "POST", "/v2/payments", json=payment_request(description="other"), headers=headers)
    _error(other_body, 400)
    other_path = mollie_api(
        sandbox, "POST", f"/v2/payments/{first.json()['id']}/refunds", json={"amount": amount(100)}, headers=headers
    )
    _error(other_path, 400)
    # another API key has its own keys; GET ignores the header
    other_key = mollie_api(
        sandbox, "POST", "/v2/payments", api_key="test_anotherKey", json=payment_request(), headers=headers
    )
    assert other_key.status_code == 201 and other_key.json()["id"] != first.json()["id"]
    fetched = mollie_api(sandbox, "GET", "/v2/payments", headers=headers)
    assert fetched.status_code == 200 and "idempotent-replayed" not in fetched.headers


def test_a_duplicate_in_flight_gets_409(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/_sandbox/mollie/faults", json={"delay_seconds": 1, "count": 1})
    headers = {"Idempotency-Key": "bill-7-try-1"}
    results = []
    first = threading.Thread(
        target=lambda: results.append(
            mollie_api(sandbox, "POST", "/v2/payments", json=payment_request(), headers=headers)
        )
    )
    first.start()
    eventually(  # not through /v2, which would take the delay itself
        lambda: sandbox.control("GET", "/_sandbox/mollie/faults").json()["delay_count"] == 0,
        message="the first request taking the delay",
    )
    _error(mollie_api(sandbox, "POST", "/v2/payments", json=payment_request(), headers=headers), 409)
    first.join(10)
    assert results[0].status_code == 201


def test_faults_fail_or_slow_the_next_calls(sandbox: Sandbox) -> None:
    armed = sandbox.control("POST", "/_sandbox/mollie/faults", json={"status": 503, "count": 1}).json()
    assert armed["count"] == 1
    _error(mollie_api(sandbox, "POST", "/v2/payments", json=payment_request()), 503)
    assert mollie_api(sandbox, "GET", "/v2/payments").json()["count"] == 0  # the failed call changed nothing
    sandbox.control("POST", "/_sandbox/mollie/faults", json={"status": 429, "count": 1})
    _error(mollie_api(sandbox, "GET", "/v2/payments"), 429)
    # Mollie's client retries a 429 by itself (backoff), and then succeeds
    sandbox.control("POST", "/_sandbox/mollie/faults", json={"status": 429, "count": 1})
    created = sdk(sandbox, lambda c: c.payments.create_async(payment_request=payment_request()), retries=True)
    assert created.status == models.PaymentResponseStatus.OPEN
    assert sandbox.control("DELETE", "/_sandbox/mollie/faults").json()["count"] == 0


def test_open_payments_expire_at_expires_at(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(mollie_options=MollieOptions(default_expiry_seconds=0.5))
    payment_id = create(sandbox)["id"]
    expired = eventually(
        lambda: (p := mollie_api(sandbox, "GET", f"/v2/payments/{payment_id}").json())["status"] == "expired" and p
    )
    assert expired["expiredAt"] and "expiresAt" not in expired and "isCancelable" not in expired


def test_api_keys_are_not_kept(sandbox: Sandbox) -> None:
    create(sandbox)
    raw = (sandbox.data_dir / "mollie.sqlite").read_bytes()
    assert MOLLIE_KEY.encode() not in raw


def test_paid_payment_shows_amounts(sandbox: Sandbox) -> None:
    payment = paid(sandbox)
    assert payment["paidAt"] and payment["amountRefunded"] == amount(0) and payment["amountRemaining"] == amount(1000)
    assert "checkout" not in payment["_links"] and "isCancelable" not in payment
