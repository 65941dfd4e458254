"""The kiosk's menu read from the POS (GetRefData MENUITEMS + CATEGLIST, prices from GetOrderMenu).

Answers in the shape of resources/menu.json, so the kiosk reads either the
same way. An item the station does not sell now (no price) is left out, and
so is the open-price tip dish.
"""

from __future__ import annotations

from typing import Any

from tablepay_domain.money import from_hundredths

from ..pos.config import PosConfig
from ..pos.rkeeper_client import RKeeperClient


async def menu_from_pos(client: RKeeperClient, config: PosConfig, currency: str) -> dict[str, Any]:
    items, category_names, prices = await client.menu(config.station)
    categories: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.ident not in prices or not item.code or item.code == config.tip_dish_code:
            continue
        try:
            amount = from_hundredths(prices[item.ident], currency)
        except ValueError:
            continue  # a price that is not a whole minor unit of this currency cannot be charged
        category = category_names.get(item.parent) or "Menu"
        categories.setdefault(category, []).append({"sku": item.code, "name": item.name, "unit_amount": amount})
    return {
        "currency": currency,
        "source": "pos",
        "categories": [{"name": name, "items": entries} for name, entries in categories.items()],
    }
