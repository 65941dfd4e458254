"""What we send Mollie and how its lists are paged: pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tablepay_domain.order import Order

from .mollie_money import mollie_amount
from .mollie_objects import PAYMENT_ID


def payment_lines(order: Order, donation_label: str) -> list[dict[str, Any]]:
    """The bill as Mollie's payment lines; the tip as a surcharge, since Mollie refuses `type: tip` at create."""

    def line(description: str, quantity: int, unit: int, kind: str, sku: str) -> dict[str, Any]:
        return {
            "description": description[:255],
            "quantity": quantity,
            "unit_price": mollie_amount(unit, order.currency),
            "total_amount": mollie_amount(unit * quantity, order.currency),
            "type": kind,
            "sku": sku[:64],
        }

    lines = [line(item.name, item.quantity, item.unit_amount, "physical", item.sku) for item in order.lines]
    if order.tip_amount:
        lines.append(line("Tip", 1, order.tip_amount, "surcharge", "tip"))
    if order.donation_amount:
        lines.append(line(donation_label, 1, order.donation_amount, "digital", "donation"))
    return lines


def created_before(payment: Mapping[str, Any], created_gte: int) -> bool:
    """Whether a listed payment was created before `created_gte` (Unix time): the listing stops there."""
    created = payment.get("createdAt")
    try:
        return datetime.fromisoformat(str(created)).timestamp() < created_gte
    except ValueError:
        return False


def page_start(href: str) -> str | None:
    """The `from` of a list's `_links.next`, checked to be a payment id."""
    found = parse_qs(urlsplit(href).query).get("from")
    return found[0] if found and PAYMENT_ID.fullmatch(found[0]) else None
