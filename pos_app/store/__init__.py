"""The kiosk's local SQLite: what the waiter typed survives a crash or a lost connection."""

from .db import open_db
from .repository import POS_STATUSES, AlreadySent, Attempt, KioskStore, LocalLine, LocalOrder

__all__ = ["POS_STATUSES", "AlreadySent", "Attempt", "KioskStore", "LocalLine", "LocalOrder", "open_db"]
