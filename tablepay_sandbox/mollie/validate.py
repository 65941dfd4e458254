"""Checks on a create-payment request, as Mollie makes them: 422 with the offending `field`.

Returns the request's fields normalized (amounts in minor units); nothing is stored here.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import money
from .errors import unprocessable

MAX_DESCRIPTION = 255
NEGATIVE_LINE_TYPES = ("discount", "store_credit", "gift_card")
LINE_TYPES = ("physical", "digital", "shipping_fee", "surcharge", *NEGATIVE_LINE_TYPES)  # `tip`: not at create
METHODS = (
    "alma", "applepay", "bacs", "bancomatpay", "bancontact", "banktransfer", "belfius", "billie", "bizum", "blik",
    "creditcard", "directdebit", "eps", "giftcard", "ideal", "in3", "kbc", "klarna", "mbway", "multibanco",
    "mybank", "paybybank", "paypal", "paysafecard", "pointofsale", "przelewy24", "riverty", "satispay", "swish",
    "trustly", "twint", "voucher",
)  # fmt: skip
_LOCALE = re.compile(r"^[a-z]{2}_[A-Z]{2}$")


def _url(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        detail = f"The {name} is missing." if value is None else f"The {name} is invalid."
        raise unprocessable(detail, name)
    if not re.match(r"^https?://[^\s/]+", value):
        raise unprocessable(f"The {name} '{value}' is not a valid URL.", name)
    return value


def _method(value: Any) -> tuple[str | None, Any]:
    """(the single method, or None when Mollie lets the guest choose; the request's value to keep)."""
    if value is None:
        return None, None
    names = value if isinstance(value, list) else [value]
    for name in names:
        if name not in METHODS:
            raise unprocessable(f"The payment method '{name}' is invalid.", "method")
    return (names[0] if len(names) == 1 else None), value


def payment_request(body: dict[str, Any]) -> dict[str, Any]:
    amount, currency = money.parse(body.get("amount"), "amount")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise unprocessable("The description is missing.", "description")
    method, requested = _method(body.get("method"))
    locale = body.get("locale")
    if locale is not None and (not isinstance(locale, str) or not _LOCALE.match(locale)):
        raise unprocessable(f"The locale '{locale}' is invalid.", "locale")
    fields: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        # Mollie truncates rather than rejects: "The API will not reject strings longer than the maximum length".
        "description": description[:MAX_DESCRIPTION],
        "redirect_url": _url(body, "redirectUrl", required=True),
        "cancel_url": _url(body, "cancelUrl"),
        "webhook_url": _url(body, "webhookUrl"),
        "metadata": body.get("metadata"),
        "locale": locale,
        "method": method,
        "method_requested": requested,
        "lines": None,
    }
    if body.get("lines") is not None:
        fields["lines"] = lines(body["lines"], amount, currency)
    return fields


def lines(value: Any, amount: int, currency: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise unprocessable("The lines must be a non-empty list.", "lines")
    result = [_line(item, f"lines[{i}]", currency) for i, item in enumerate(value)]
    total = sum(item["totalAmount"] for item in result)
    if total != amount:
        raise unprocessable(
            f"The sum of the lines' totalAmount ({money.format_value(total, currency)}) does not match "
            f"the amount ({money.format_value(amount, currency)}).",
            "amount",
        )
    return result


def _line_amount(item: dict[str, Any], name: str, field: str, currency: str) -> int:
    minor, cur = money.parse(item.get(name), f"{field}.{name}", allow_negative=True, allow_zero=True)
    if cur != currency:
        raise unprocessable(f"The currency of {field}.{name} must be the payment's ({currency}).", f"{field}.{name}")
    return minor


def _line(item: Any, field: str, currency: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise unprocessable("Each line must be an object.", field)
    type_ = item.get("type", "physical")
    if type_ == "tip":
        raise unprocessable("The line type 'tip' is not available when creating a payment.", f"{field}.type")
    if type_ not in LINE_TYPES:
        raise unprocessable(f"The line type '{type_}' is invalid.", f"{field}.type")
    description, quantity = item.get("description"), item.get("quantity")
    if not isinstance(description, str) or not description:
        raise unprocessable("The line's description is missing.", f"{field}.description")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise unprocessable("The line's quantity must be a whole number of at least 1.", f"{field}.quantity")
    negative = type_ in NEGATIVE_LINE_TYPES
    unit = _line_amount(item, "unitPrice", field, currency)
    total = _line_amount(item, "totalAmount", field, currency)
    discount = _line_amount(item, "discountAmount", field, currency) if "discountAmount" in item else None
    if discount is not None and discount < 0:
        raise unprocessable("The line's discountAmount cannot be negative.", f"{field}.discountAmount")
    if (unit < 0 or total < 0) and not negative:
        raise unprocessable(
            f"Only lines of type {', '.join(NEGATIVE_LINE_TYPES)} may have a negative amount.", f"{field}.totalAmount"
        )
    if total != unit * quantity - (discount or 0):
        raise unprocessable(
            "The line's totalAmount must be unitPrice × quantity − discountAmount.", f"{field}.totalAmount"
        )
    normalized = {**item, "type": type_, "unitPrice": unit, "totalAmount": total, "discountAmount": discount}
    normalized["vatAmount"] = None
    if item.get("vatRate") is not None or item.get("vatAmount") is not None:
        normalized["vatAmount"] = _vat(item, field, currency, total)
    return normalized


def _vat(item: dict[str, Any], field: str, currency: str, total: int) -> int:
    """vatAmount = totalAmount × vatRate / (100 + vatRate), rounded to the minor unit."""
    rate_text = item.get("vatRate")
    try:
        rate = Decimal(rate_text) if isinstance(rate_text, str) else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate < 0:
        raise unprocessable('The line\'s vatRate must be a string like "21.00".', f"{field}.vatRate")
    vat = _line_amount(item, "vatAmount", field, currency)
    expected = int((Decimal(total) * rate / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if vat != expected:
        raise unprocessable(
            f"The line's vatAmount should be {money.format_value(expected, currency)} "
            f"(totalAmount × vatRate / (100 + vatRate)).",
            f"{field}.vatAmount",
        )
    return vat
