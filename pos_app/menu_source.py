"""Which menu the kiosk shows: the menu file, or the restaurant POS's menu through the sync service.

With `menu_source = "pos"` the kiosk asks GET /v1/menu once at start (in the file menu's
currency), saves the answer in its store, and builds the grid from it; the table plan always
comes from the file. When the service or the POS cannot answer, the last saved POS menu is used,
else the file, and `note` says which for the status bar.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from .client import ApiError, SyncClient, Unreachable
from .menu import Menu, menu_from_dict
from .settings import KioskSettings
from .store import KioskStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MenuChoice:
    menu: Menu
    source: str  # "file", "pos" (fresh) or "pos-cache"
    note: str  # one line for the status bar
    degraded: bool = False  # the POS menu was asked for but could not be read now


def _why(exc: Exception) -> str:
    if isinstance(exc, Unreachable):
        return "sync service unreachable"
    if isinstance(exc, ApiError):
        if exc.code == "pos_disabled":
            return "the sync service has no POS"
        if exc.code == "pos_unavailable":
            return "POS not answering"
        return f"the sync service answered {exc.status}"
    return "the POS menu was not usable"


def _from_pos(body: dict[str, object], file_menu: Menu) -> Menu:
    menu = menu_from_dict(body, tables=file_menu.tables)
    if menu.currency != file_menu.currency:
        raise ValueError(f"the POS menu is in {menu.currency}, the kiosk in {file_menu.currency}")
    if not menu.items:
        raise ValueError("the POS menu has no dishes")
    return menu


async def choose_menu(settings: KioskSettings, client: SyncClient, store: KioskStore, file_menu: Menu) -> MenuChoice:
    """The menu to build the grid from; never raises for a missing service or POS."""
    if settings.menu_source != "pos":
        return MenuChoice(file_menu, "file", "Menu: file")
    currency = file_menu.currency
    try:
        body = await client.pos_menu(currency)
        menu = _from_pos(body, file_menu)
    except (Unreachable, ApiError, ValueError, KeyError, TypeError) as exc:
        reason = _why(exc)
        log.warning("POS menu: %s (%s)", reason, exc)
    else:
        store.save_pos_menu(currency, body)
        return MenuChoice(menu, "pos", "Menu: POS")
    cached = store.cached_pos_menu(currency)
    if cached is not None:
        body, fetched_at = cached
        try:
            menu = _from_pos(body, file_menu)
        except (ValueError, KeyError, TypeError):
            log.warning("the saved POS menu is not usable; using the menu file")
        else:
            when = datetime.fromisoformat(fetched_at).astimezone().strftime("%d %b %H:%M")
            return MenuChoice(menu, "pos-cache", f"Menu: POS as saved {when} ({reason})", degraded=True)
    return MenuChoice(file_menu, "file", f"Menu: file ({reason}, no saved POS menu)", degraded=True)
