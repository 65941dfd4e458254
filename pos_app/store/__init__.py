"""The kiosk's local SQLite: what the waiter typed survives a crash or a lost connection."""

from .bill import BillProgress
from .db import open_db
from .manager import SORT_SQL, EventRow, HistoryFilter, HistoryRow, ManagerStore
from .repository import (
    CHARGED_BACK,
    POS_STATUSES,
    AlreadySent,
    Attempt,
    KioskStore,
    LocalLine,
    LocalOrder,
)

__all__ = [
    "CHARGED_BACK",
    "POS_STATUSES",
    "SORT_SQL",
    "AlreadySent",
    "Attempt",
    "BillProgress",
    "EventRow",
    "HistoryFilter",
    "HistoryRow",
    "KioskStore",
    "LocalLine",
    "LocalOrder",
    "ManagerStore",
    "open_db",
]
