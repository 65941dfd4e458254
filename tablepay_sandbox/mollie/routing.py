"""Mollie Connect split payments: `routing[]` on create, the Delayed Routing API, and the
reversals a refund pulls back from connected organisations (`routingReversals`, `reverseRouting`).

Every route keeps `reversed` (minor units): the sandbox shows it as `amountReversed`.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

from ..objects import new_id
from . import money
from .errors import unprocessable
from .runtime import Mollie
from .store import Rec

UPFRONT_CURRENCIES = ("EUR", "GBP")  # the spec says EUR; Mollie's 2026 docs add GBP
DELAYED_CURRENCIES = ("EUR", "GBP", "AUD", "CAD", "CZK", "DKK", "HUF", "NOK", "PLN", "SEK", "CHF", "USD")
TEST_RELEASE_DAYS = 10  # releaseDate at most 10 days ahead in test mode (2 years live)


def _enabled(rt: Mollie, field: str) -> None:
    if not rt.options.split_payments:
        raise unprocessable("Split payments are not enabled for this account.", field)


def _destination(rt: Mollie, value: Any, field: str) -> str:
    if not isinstance(value, dict) or value.get("type") != "organization":
        raise unprocessable("The destination type must be 'organization'.", f"{field}.destination.type")
    org = value.get("organizationId")
    if org not in rt.options.connected_organizations:
        raise unprocessable(
            f"The organization '{org}' is not connected to your platform.", f"{field}.destination.organizationId"
        )
    return str(org)


def routes_of(rt: Mollie, payment: Rec) -> list[Rec]:
    """Upfront routes (kept in the payment) then delayed ones, in the order they were made."""
    return [*(payment.get("routing") or []), *rt.store.children("route", payment["id"])]


def routed(rt: Mollie, payment: Rec) -> int:
    return sum(r["amount"] for r in routes_of(rt, payment))


def upfront(rt: Mollie, value: Any, amount: int, currency: str, now: float) -> list[Rec]:
    _enabled(rt, "routing")
    if not isinstance(value, list) or not value:
        raise unprocessable("The routing must be a non-empty list.", "routing")
    if currency not in UPFRONT_CURRENCIES:
        raise unprocessable(f"Payments in {currency} cannot be routed.", "routing")
    routes: list[Rec] = []
    for i, item in enumerate(value):
        field = f"routing[{i}]"
        if not isinstance(item, dict):
            raise unprocessable("Each route must be an object.", field)
        minor, cur = money.parse(item.get("amount"), f"{field}.amount")
        if cur != currency:
            raise unprocessable(f"A route's currency must be the payment's ({currency}).", f"{field}.amount.currency")
        release = item.get("releaseDate")
        if release is not None:
            latest = date.today() + timedelta(days=TEST_RELEASE_DAYS)
            valid = isinstance(release, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", release)
            if not valid or not date.today() <= date.fromisoformat(release) <= latest:
                raise unprocessable(f"The releaseDate must be a date from today to {latest}.", f"{field}.releaseDate")
        org = _destination(rt, item.get("destination"), field)
        routes.append({"id": new_id("rt_", 10), "amount": minor, "currency": cur, "org": org,
                       "release_date": release, "created": now, "reversed": 0})  # fmt: skip
    if sum(r["amount"] for r in routes) > amount:
        raise unprocessable("The routes add up to more than the payment's amount.", "routing")
    return routes


def create_delayed(rt: Mollie, payment: Rec, body: dict[str, Any]) -> Rec:
    _enabled(rt, "destination")
    if payment["status"] != "paid":
        raise unprocessable("A route can only be created for a paid payment.")
    minor, cur = money.parse(body.get("amount"), "amount")
    if cur != payment["currency"] or cur not in DELAYED_CURRENCIES:
        raise unprocessable(f"The route's currency must be the payment's ({payment['currency']}).", "amount.currency")
    org = _destination(rt, body.get("destination"), "route")
    left = payment["amount"] - routed(rt, payment)
    if minor > left:
        raise unprocessable(
            f"The route's amount is more than what is left to route ({money.format_value(left, cur)}).", "amount"
        )
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 255):
        raise unprocessable("The description must be a string of at most 255 characters.", "description")
    rec = {"id": new_id("crt_", 20), "payment_id": payment["id"], "amount": minor, "currency": cur, "org": org,
           "description": description, "created": time.time(), "reversed": 0}  # fmt: skip
    return rt.store.insert("route", rec)


def reversals(rt: Mollie, payment: Rec, refund_amount: int, body: dict[str, Any]) -> list[dict[str, Any]]:
    """What a refund pulls back, as [{route, amount, org}] allocated to routes oldest first; checks only."""
    reverse_all, wanted = body.get("reverseRouting"), body.get("routingReversals")
    if not reverse_all and wanted is None:
        return []
    _enabled(rt, "routingReversals" if wanted is not None else "reverseRouting")
    routes = routes_of(rt, payment)
    if reverse_all:
        if wanted is not None:
            raise unprocessable("Use either reverseRouting or routingReversals, not both.", "reverseRouting")
        if refund_amount != payment["amount"]:
            raise unprocessable("reverseRouting can only be used with a full refund.", "reverseRouting")
        return [{"route": r["id"], "amount": r["amount"] - r["reversed"], "org": r["org"]}
                for r in routes if r["amount"] > r["reversed"]]  # fmt: skip
    if not isinstance(wanted, list) or not wanted:
        raise unprocessable("The routingReversals must be a non-empty list.", "routingReversals")
    left = {r["id"]: r["amount"] - r["reversed"] for r in routes}
    allocations: list[dict[str, Any]] = []
    for i, item in enumerate(wanted):
        field = f"routingReversals[{i}]"
        source = item.get("source") if isinstance(item, dict) else None
        org = source.get("organizationId") if isinstance(source, dict) else None
        if not isinstance(source, dict) or source.get("type") != "organization" or org == "me":
            raise unprocessable("A reversal's source must be a connected organization.", f"{field}.source")
        minor, cur = money.parse(item.get("amount"), f"{field}.amount")
        if cur != payment["currency"]:
            raise unprocessable("A reversal's currency must be the payment's.", f"{field}.amount.currency")
        for r in routes:
            if r["org"] == org and minor and left[r["id"]]:
                take = min(minor, left[r["id"]])
                allocations.append({"route": r["id"], "amount": take, "org": org})
                left[r["id"]] -= take
                minor -= take
        if minor:
            raise unprocessable(f"The reversal is more than is left routed to '{org}'.", f"{field}.amount")
    if sum(a["amount"] for a in allocations) > refund_amount:
        raise unprocessable("The reversals add up to more than the refund.", "routingReversals")
    return allocations


def apply(rt: Mollie, payment: Rec, allocations: list[dict[str, Any]], sign: int) -> None:
    """Add (sign 1) or give back (sign -1, a canceled or failed refund) reversed amounts."""
    by_route: dict[str, int] = {}
    for a in allocations:
        by_route[a["route"]] = by_route.get(a["route"], 0) + sign * a["amount"]
    for r in payment.get("routing") or []:
        r["reversed"] += by_route.get(r["id"], 0)
    rt.store.save(payment)
    for r in rt.store.children("route", payment["id"]):
        if r["id"] in by_route:
            r["reversed"] += by_route[r["id"]]
            rt.store.save(r)
