"""Stripe objects built from Stripe's own fixtures, so the keys always match.

Every builder deep-copies the fixture for its type and overwrites values with
`fill`, which refuses keys the fixture does not have: an object can never grow
a field Stripe does not send, nor lose one it does.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
import time
from functools import cache
from importlib import resources
from typing import Any

Obj = dict[str, Any]

#: What events say when the request did not send a Stripe-Version header; the
#: version pinned by the stripe SDK the project uses (stripe 16.1).
DEFAULT_API_VERSION = "2026-10-28.endive"

_ALPHABET = string.ascii_letters + string.digits


@cache
def _fixtures() -> dict[str, Obj]:
    text = resources.files(__package__).joinpath("stripe_fixtures.json").read_text("utf-8")
    data: dict[str, Obj] = json.loads(text)["resources"]
    return data


def template(kind: str) -> Obj:
    return copy.deepcopy(_fixtures()[kind])


def fixture_keys(kind: str) -> set[str]:
    return set(_fixtures()[kind])


def fill(obj: Obj, **values: Any) -> Obj:
    unknown = set(values) - set(obj)
    if unknown:
        raise KeyError(f"{obj.get('object')} has no field(s) {sorted(unknown)} in Stripe's fixture")
    obj.update(values)
    return obj


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


def empty_list(url: str) -> Obj:
    return {"object": "list", "data": [], "has_more": False, "url": url}


_NULL_ADDRESS = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}


def checkout_session(
    *,
    public_url: str,
    currency: str,
    amount: int,
    metadata: dict[str, str],
    client_reference_id: str | None,
    success_url: str | None,
    cancel_url: str | None,
    expires_at: int,
    customer_email: str | None,
    locale: str | None,
    payment_method_types: list[str],
) -> Obj:
    session_id = new_id("cs_test_a1", 56)
    return fill(
        template("checkout.session"),
        id=session_id,
        created=now(),
        expires_at=expires_at,
        livemode=False,
        after_expiration=None,
        allow_promotion_codes=None,
        amount_subtotal=amount,
        amount_total=amount,
        currency=currency,
        automatic_tax={"enabled": False, "liability": None, "provider": None, "status": None},
        billing_address_collection=None,
        cancel_url=cancel_url,
        success_url=success_url,
        client_reference_id=client_reference_id,
        client_secret=None,
        consent=None,
        consent_collection=None,
        custom_fields=[],
        custom_text={
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        customer=None,
        customer_creation="if_required",
        customer_details=None,
        customer_email=customer_email,
        invoice=None,
        invoice_creation={
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        locale=locale,
        metadata=metadata,
        mode="payment",
        payment_intent=None,
        payment_link=None,
        payment_method_collection="if_required",
        payment_method_configuration_details=None,
        payment_method_options={"card": {"request_three_d_secure": "automatic"}},
        payment_method_types=payment_method_types,
        payment_status="unpaid",
        phone_number_collection={"enabled": False},
        recovered_from=None,
        saved_payment_method_options=None,
        setup_intent=None,
        shipping_address_collection=None,
        shipping_cost=None,
        shipping_options=[],
        status="open",
        submit_type=None,
        subscription=None,
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        ui_mode="hosted",
        url=f"{public_url}/c/pay/{session_id}",
        adaptive_pricing={"enabled": False},
        discounts=[],
        collected_information=None,
        permissions=None,
        wallet_options=None,
        origin_context=None,
        currency_conversion=None,
        customer_account=None,
        integration_identifier=None,
        managed_payments={"enabled": False},
    )


def line_item(*, currency: str, name: str, unit_amount: int, quantity: int, metadata: dict[str, str]) -> Obj:
    item = template("item")
    created = now()
    price = fill(
        item["price"],
        id=new_id("price_1"),
        active=False,
        billing_scheme="per_unit",
        created=created,
        currency=currency,
        custom_unit_amount=None,
        livemode=False,
        lookup_key=None,
        metadata={},
        nickname=None,
        product=new_id("prod_", 14),
        recurring=None,
        tax_behavior="unspecified",
        tiers_mode=None,
        transform_quantity=None,
        type="one_time",
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
    )
    amount = unit_amount * quantity
    return fill(
        item,
        id=new_id("li_1"),
        amount_discount=0,
        amount_subtotal=amount,
        amount_tax=0,
        amount_total=amount,
        currency=currency,
        description=name,
        price=price,
        quantity=quantity,
        metadata=metadata,
        adjustable_quantity=None,
    )


def payment_intent(
    *,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    description: str | None = None,
    transfer_group: str | None = None,
    payment_method_types: list[str] | None = None,
    automatic: bool = False,
) -> Obj:
    pi_id = new_id("pi_3")
    return fill(
        template("payment_intent"),
        id=pi_id,
        amount=amount,
        amount_capturable=0,
        amount_details={"tip": {}},
        amount_received=0,
        application=None,
        application_fee_amount=None,
        automatic_payment_methods={"allow_redirects": "always", "enabled": True} if automatic else None,
        canceled_at=None,
        cancellation_reason=None,
        capture_method="automatic",
        client_secret=f"{pi_id}_secret_{new_id('', 25)}",
        confirmation_method="automatic",
        created=now(),
        currency=currency,
        customer=None,
        description=description,
        last_payment_error=None,
        latest_charge=None,
        livemode=False,
        metadata=metadata,
        next_action=None,
        on_behalf_of=None,
        payment_method=None,
        payment_method_configuration_details=None,
        payment_method_options={
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        payment_method_types=payment_method_types or ["card"],
        processing=None,
        receipt_email=None,
        review=None,
        setup_future_usage=None,
        shipping=None,
        statement_descriptor=None,
        statement_descriptor_suffix=None,
        status="requires_payment_method",
        transfer_data=None,
        transfer_group=transfer_group,
        source=None,
        excluded_payment_method_types=None,
        customer_account=None,
        managed_payments=None,
    )


def card_details(template_card: Obj, *, last4: str, amount: int, succeeded: bool) -> Obj:
    return fill(
        template_card,
        amount_authorized=amount if succeeded else None,
        brand="visa",
        checks={
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass" if succeeded else None,
        },
        country="US",
        exp_month=12,
        exp_year=2034,
        extended_authorization={"status": "disabled"},
        fingerprint="TbPaySndbx" + last4,
        funding="credit",
        incremental_authorization={"status": "unavailable"},
        installments=None,
        last4=last4,
        mandate=None,
        multicapture={"status": "unavailable"},
        network="visa",
        network_token={"used": False},
        overcapture={"maximum_amount_capturable": amount, "status": "unavailable"},
        three_d_secure=None,
        wallet=None,
        authorization_code="123456" if succeeded else None,
        regulated_status="unregulated",
        network_transaction_id=new_id("", 15) if succeeded else None,
        transaction_link_id=None,
    )


def charge(
    *,
    public_url: str,
    pi: Obj,
    payment_method: str,
    method_type: str,
    last4: str,
    status: str,
    outcome: Obj,
    failure_code: str | None = None,
    failure_message: str | None = None,
) -> Obj:
    obj = template("charge")
    charge_id = new_id("ch_3")
    succeeded = status == "succeeded"
    if method_type == "card":
        details: Obj = {
            "card": card_details(
                obj["payment_method_details"]["card"], last4=last4, amount=pi["amount"], succeeded=succeeded
            ),
            "type": "card",
        }
    else:
        details = {
            method_type: {"bank_name": "TablePay Test Bank", "last4": last4, "fingerprint": None},
            "type": method_type,
        }
    return fill(
        obj,
        id=charge_id,
        amount=pi["amount"],
        amount_captured=pi["amount"] if succeeded else 0,
        amount_refunded=0,
        application=None,
        application_fee=None,
        application_fee_amount=None,
        balance_transaction=new_id("txn_3") if succeeded else None,
        billing_details={"address": dict(_NULL_ADDRESS), "email": None, "name": None, "phone": None, "tax_id": None},
        calculated_statement_descriptor="TABLEPAY SANDBOX",
        captured=succeeded,
        created=now(),
        currency=pi["currency"],
        customer=None,
        description=pi["description"],
        disputed=False,
        failure_balance_transaction=None,
        failure_code=failure_code,
        failure_message=failure_message,
        fraud_details={},
        livemode=False,
        metadata=dict(pi["metadata"]),
        on_behalf_of=None,
        outcome=outcome,
        paid=succeeded,
        payment_intent=pi["id"],
        payment_method=payment_method,
        payment_method_details=details,
        receipt_email=None,
        receipt_number=None,
        receipt_url=f"{public_url}/receipts/{charge_id}",
        refunded=False,
        refunds=empty_list(f"/v1/charges/{charge_id}/refunds"),
        review=None,
        shipping=None,
        source_transfer=None,
        statement_descriptor=None,
        statement_descriptor_suffix=None,
        status=status,
        transfer_data=None,
        transfer_group=pi["transfer_group"],
        source=None,
    )


def refund(*, charge_obj: Obj, amount: int, metadata: dict[str, str], reason: str | None) -> Obj:
    return fill(
        template("refund"),
        id=new_id("re_3"),
        amount=amount,
        balance_transaction=new_id("txn_3"),
        charge=charge_obj["id"],
        created=now(),
        currency=charge_obj["currency"],
        destination_details={
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        metadata=metadata,
        payment_intent=charge_obj["payment_intent"],
        reason=reason,
        receipt_number=None,
        source_transfer_reversal=None,
        status="succeeded",
        transfer_reversal=None,
        customer=None,
        customer_account=None,
        payment_method=charge_obj["payment_method"],
    )


def transfer(
    *,
    amount: int,
    currency: str,
    destination: str,
    source_transaction: str | None,
    transfer_group: str | None,
    description: str | None,
    metadata: dict[str, str],
) -> Obj:
    transfer_id = new_id("tr_1")
    return fill(
        template("transfer"),
        id=transfer_id,
        amount=amount,
        amount_reversed=0,
        balance_transaction=new_id("txn_1"),
        created=now(),
        currency=currency,
        description=description,
        destination=destination,
        destination_payment=new_id("py_", 14),
        livemode=False,
        metadata=metadata,
        reversals=empty_list(f"/v1/transfers/{transfer_id}/reversals"),
        reversed=False,
        source_transaction=source_transaction,
        source_type="card",
        transfer_group=transfer_group,
    )


def transfer_reversal(*, transfer_obj: Obj, amount: int, metadata: dict[str, str]) -> Obj:
    return fill(
        template("transfer_reversal"),
        id=new_id("trr_1"),
        amount=amount,
        balance_transaction=new_id("txn_1"),
        created=now(),
        currency=transfer_obj["currency"],
        destination_payment_refund=new_id("pyr_1"),
        metadata=metadata,
        source_refund=None,
        transfer=transfer_obj["id"],
    )


def event(
    *,
    type_: str,
    data_object: Obj,
    api_version: str,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
    previous_attributes: Obj | None = None,
) -> Obj:
    data: Obj = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return fill(
        template("event"),
        id=new_id("evt_1"),
        api_version=api_version,
        created=now(),
        data=data,
        livemode=False,
        pending_webhooks=pending_webhooks,
        request={"id": request_id, "idempotency_key": idempotency_key},
        type=type_,
    )


def webhook_endpoint(
    *, url: str, enabled_events: list[str], description: str | None, metadata: dict[str, str], api_version: str | None
) -> Obj:
    return fill(
        template("webhook_endpoint"),
        id=new_id("we_1"),
        api_version=api_version,
        application=None,
        created=now(),
        description=description,
        enabled_events=enabled_events,
        livemode=False,
        metadata=metadata,
        status="enabled",
        url=url,
    )
