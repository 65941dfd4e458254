"""The reference data a fresh simulator starts with: every code a test or client may rely on is here.

Dishes and categories come from the repository's `resources/menu.json` (the kiosk's own menu),
so a menu built from MENUITEMS + CATEGLIST + GetOrderMenu matches what the kiosk shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .xmlio import stable_guid

MENU_JSON = Path(__file__).resolve().parents[2] / "resources" / "menu.json"

Item = dict[str, Any]  # Ident, Code, Name, GUIDString, Status, plus per-collection fields

FIRST_DISH_IDENT = 1000001
FIRST_CATEGORY_IDENT = 2000001
TIP_DISH: dict[str, Any] = {
    "Ident": 1009001,
    "Code": "9001",
    "Name": "Tips",
    "open_price": True,
}  # open price: SaveOrder sets it
ONLINE_CURRENCY = {"Ident": 1030240, "Code": "11", "Name": "Online card"}
TIP_CHARGE = {"Ident": 1040007, "Code": "7", "Name": "Tips"}  # Payment <TipCharge code="7"/>
STATION = {"Ident": 15003, "Code": "3", "Name": "TablePay station"}
EMPLOYEE = {"Ident": 1000634, "Code": "5", "Name": "TablePay"}  # cashier and waiter
RESTAURANT = {"id": "1", "code": "1"}
REST_CODE = "1"
# Table codes are integers on a cash server; menu.json's named tables get 101.. and 201..
TABLES = {
    **{str(n): str(n) for n in range(1, 13)},
    "101": "Bar 1",
    "102": "Bar 2",
    "201": "Terrace 1",
    "202": "Terrace 2",
}
FIRST_TABLE_IDENT = 3000001

# The collection names used in GetRefData and in "Не найден элемент N в коллекции X".
MENUITEMS, CATEGLIST, CURRENCIES, TABLES_REF = "MENUITEMS", "CATEGLIST", "CURRENCIES", "TABLES"
CASHES, EMPLOYEES, DISCOUNTS = "CASHES", "EMPLOYEES", "DISCOUNTS"


def _item(collection: str, ident: int, code: str, name: str, **extra: Any) -> Item:
    return {
        "Ident": ident,
        "Code": code,
        "Name": name,
        "GUIDString": stable_guid(f"{collection}/{code}"),
        "Status": "rsActive",
        **extra,
    }


def reference_data(menu_path: Path = MENU_JSON) -> dict[str, list[Item]]:
    menu = json.loads(menu_path.read_text("utf-8"))
    categories: list[Item] = []
    dishes: list[Item] = []
    for number, category in enumerate(menu["categories"], start=1):
        categ_ident = FIRST_CATEGORY_IDENT + number - 1
        categories.append(_item(CATEGLIST, categ_ident, str(number), category["name"]))
        for dish in category["items"]:
            dishes.append(
                _item(
                    MENUITEMS,
                    FIRST_DISH_IDENT + len(dishes),
                    dish["sku"],
                    dish["name"],
                    Parent=categ_ident,
                    price=int(dish["unit_amount"]),
                    open_price=False,
                )
            )
    dishes.append(
        _item(MENUITEMS, TIP_DISH["Ident"], TIP_DISH["Code"], TIP_DISH["Name"], Parent=0, price=0, open_price=True)
    )
    tables = [_item(TABLES_REF, FIRST_TABLE_IDENT + i, code, name) for i, (code, name) in enumerate(TABLES.items())]
    return {
        MENUITEMS: dishes,
        CATEGLIST: categories,
        CURRENCIES: [_item(CURRENCIES, **_ref(ONLINE_CURRENCY))],
        DISCOUNTS: [_item(DISCOUNTS, **_ref(TIP_CHARGE))],
        CASHES: [_item(CASHES, **_ref(STATION))],
        EMPLOYEES: [_item(EMPLOYEES, **_ref(EMPLOYEE))],
        TABLES_REF: tables,
    }


def _ref(spec: dict[str, Any]) -> dict[str, Any]:
    return {"ident": spec["Ident"], "code": spec["Code"], "name": spec["Name"]}


def client_settings(url: str) -> dict[str, Any]:
    """The sync service's RKEEPER_* settings (by field name) that fit this simulator's reference data."""
    from .options import DEFAULT_PASSWORD, DEFAULT_USER

    labels = ",".join(f"{label}={code}" for code, label in TABLES.items() if code != label)
    return dict(
        rkeeper_url=url,
        rkeeper_user=DEFAULT_USER,
        rkeeper_password=DEFAULT_PASSWORD,
        rkeeper_station_code=STATION["Code"],
        rkeeper_cashier_code=EMPLOYEE["Code"],
        rkeeper_waiter_code=EMPLOYEE["Code"],
        rkeeper_currency_id=str(ONLINE_CURRENCY["Ident"]),
        rkeeper_tip_charge_code=TIP_CHARGE["Code"],
        rkeeper_tip_dish_code=TIP_DISH["Code"],
        rkeeper_tables=labels,
    )
