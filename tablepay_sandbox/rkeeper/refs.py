"""Read-only setup commands: GetSystemInfo, GetRefData, GetOrderMenu."""

from __future__ import annotations

from .context import Ctx, Result, required_child, resolve
from .errors import bad_params
from .seed import CASHES, CATEGLIST, CURRENCIES, DISCOUNTS, EMPLOYEES, MENUITEMS, REST_CODE, RESTAURANT, TABLES_REF
from .xmlio import Element, element, fmt_dt, sub

# Which collections GetRefData serves, and the attributes each item shows.
REF_ATTRS = {
    MENUITEMS: ("Ident", "Code", "Name", "GUIDString", "Status", "Parent"),
    CATEGLIST: ("Ident", "Code", "Name", "GUIDString", "Status"),
    CURRENCIES: ("Ident", "Code", "Name", "GUIDString", "Status"),
    TABLES_REF: ("Ident", "Code", "Name", "GUIDString", "Status"),
    CASHES: ("Ident", "Code", "Name", "GUIDString", "Status"),
    EMPLOYEES: ("Ident", "Code", "Name", "GUIDString", "Status"),
    DISCOUNTS: ("Ident", "Code", "Name", "GUIDString", "Status"),
}


def get_system_info(ctx: Ctx, cmd: Element) -> Result:
    info = element("SystemInfo", SystemTime=fmt_dt(ctx.now), ShiftDate=ctx.now.date().isoformat(), RestCode=REST_CODE)
    sub(info, "Restaurant", id=RESTAURANT["id"], code=RESTAURANT["code"], name=ctx.options.restaurant_name)
    return Result([info])


def get_ref_data(ctx: Ctx, cmd: Element) -> Result:
    """`RefName` picks the collection; OnlyActive and PropMask are accepted and ignored (all items are active)."""
    name = cmd.get("RefName", "")
    if name not in REF_ATTRS:
        raise bad_params(f"Unknown RefName {name}" if name else "RefName is required")
    ref = element("RK7Reference", Name=name)
    items = sub(ref, "Items")
    for item in ctx.store.refs(name):
        sub(items, "Item", **{attr: item[attr] for attr in REF_ATTRS[name] if attr in item})
    return Result([ref])


def get_order_menu(ctx: Ctx, cmd: Element) -> Result:
    """Prices of what the station sells now; the open-price tip dish has no list price and is left out."""
    resolve(ctx, required_child(cmd, "Station"), CASHES)
    dishes = element("Dishes")
    for item in ctx.store.refs(MENUITEMS):
        if not item["open_price"]:
            sub(dishes, "Item", Ident=item["Ident"], Price=item["price"])
    return Result([dishes])
