"""The menu and table plan the kiosk shows, read from a JSON file (resources/menu.json)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tablepay_domain.money import normalize_currency

DEFAULT_MENU = Path(__file__).resolve().parent.parent / "resources" / "menu.json"


@dataclass(frozen=True)
class MenuItem:
    sku: str
    name: str
    unit_amount: int
    category: str


@dataclass(frozen=True)
class Menu:
    currency: str
    tables: tuple[str, ...]
    categories: tuple[str, ...]
    items: tuple[MenuItem, ...]

    def in_category(self, category: str) -> list[MenuItem]:
        return [item for item in self.items if item.category == category]

    def item(self, sku: str) -> MenuItem:
        for item in self.items:
            if item.sku == sku:
                return item
        raise KeyError(sku)


def load_menu(path: Path = DEFAULT_MENU) -> Menu:
    """Read and check a menu file; prices are integers in minor units."""
    return menu_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def menu_from_dict(data: Mapping[str, Any], tables: Sequence[str] | None = None) -> Menu:
    """Check a menu in the file's shape (also GET /v1/menu's); `tables` overrides the data's table plan
    (the POS menu has none: the kiosk keeps the file's)."""
    items: list[MenuItem] = []
    categories: list[str] = []
    for category in data["categories"]:
        categories.append(str(category["name"]))
        for raw in category["items"]:
            amount = raw["unit_amount"]
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise ValueError(f"menu item {raw.get('sku')}: unit_amount must be a non-negative integer")
            items.append(MenuItem(str(raw["sku"]), str(raw["name"]), amount, str(category["name"])))
    skus = [item.sku for item in items]
    if len(set(skus)) != len(skus):
        raise ValueError("menu: every sku must be unique")
    if tables is None:
        tables = [str(t) for t in data.get("tables", [str(n) for n in range(1, 13)])]
    return Menu(normalize_currency(data["currency"]), tuple(str(t) for t in tables), tuple(categories), tuple(items))
