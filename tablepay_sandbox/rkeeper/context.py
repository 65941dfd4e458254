"""What every command handler gets (`Ctx`) and returns (`Result`), plus the lookups they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import E_ORDER_LOCKED, E_ORDER_NOT_FOUND, bad_params, executing, not_found_in, visit_closed
from .options import RKeeperOptions
from .seed import Item
from .store import Doc, RKStore
from .xmlio import Element, int_attr, norm_guid


@dataclass
class Ctx:
    store: RKStore
    options: RKeeperOptions
    locks: dict[str, str]  # order guid -> the lockguid that may still change it
    now: datetime


@dataclass
class Result:
    children: list[Element] = field(default_factory=list)
    attrs: dict[str, object] = field(default_factory=dict)  # extra attributes on the result root
    status: str = "Ok"


def required_child(parent: Element, tag: str) -> Element:
    child = parent.find(tag)
    if child is None:
        raise bad_params(f"{tag} is required for {parent.get('CMD') or parent.tag}")
    return child


def resolve(ctx: Ctx, el: Element, collection: str) -> Item:
    """A ref item [V]: `id` (= Ident), `code` or `guid`; never by name."""
    if el.get("id"):
        ident = int_attr(el, "id")
        found, key = ctx.store.find_ref(collection, ident=ident), el.get("id", "")
    elif el.get("code"):
        key = el.get("code", "").strip()
        found = ctx.store.find_ref(collection, code=key)
    elif el.get("guid"):
        key = norm_guid(el.get("guid", ""), f"{el.tag}@guid")
        found = ctx.store.find_ref(collection, guid=key)
    else:
        raise bad_params(f"{el.tag} needs id, code or guid")
    if found is None:
        raise not_found_in(key, collection)
    return found


def find_order(ctx: Ctx, order_el: Element) -> Doc:
    """By `guid`, or by `visit` + `orderIdent` (old examples write `ident`)."""
    if order_el.get("guid"):
        order = ctx.store.order_by_guid(norm_guid(order_el.get("guid", "")))
    elif order_el.get("visit"):
        visit = int_attr(order_el, "visit", required=True)
        ident = int_attr(order_el, "orderIdent") or int_attr(order_el, "ident", required=True)
        assert visit is not None and ident is not None
        order = ctx.store.order_by_ident(visit, ident)
    else:
        raise bad_params("Order needs guid, or visit and orderIdent")
    if order is None:
        raise executing(E_ORDER_NOT_FOUND, "Order not found")
    return order


def check_lock(ctx: Ctx, order: Doc, cmd: Element, order_el: Element | None, number: int = E_ORDER_LOCKED) -> None:
    """A locked order changes only for a request carrying its `lockguid` (on Order or on the command)."""
    lock = ctx.locks.get(order["guid"])
    if lock is None:
        return
    given = (order_el.get("lockguid") if order_el is not None else None) or cmd.get("lockguid")
    if given and norm_guid(given, "lockguid") == lock:
        return
    raise executing(number, f"Заказ {order['orderName']} заблокирован другим ключом блокировки")


def open_order_to_change(ctx: Ctx, cmd: Element, order_el: Element) -> Doc:
    """The order a changing command names: it must exist, not be locked against us, and be still open."""
    order = find_order(ctx, order_el)
    check_lock(ctx, order, cmd, order_el)
    if order["paid"] or order["finished"]:
        raise visit_closed(order["visit"])
    return order
